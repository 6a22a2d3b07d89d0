"""Public catalog: GET /models and GET /prompts."""

import pytest

from conversations.models import LLMModel, Prompt
from tests.conversations.factories import LLMModelFactory, PromptFactory

pytestmark = pytest.mark.django_db

PUBLIC_MODEL_FIELDS = {
    "slug",
    "display_name",
    "description",
    "provider",
    "context_window",
    "capabilities",
    "is_default",
}


def test_seeded_catalog_has_the_local_default_and_disabled_upstream_examples():
    default = LLMModel.objects.get(is_default=True)
    assert (default.slug, default.provider, default.enabled) == ("smollm2-135m", "local", True)
    assert (default.upstream_model, default.context_window, default.max_output_tokens) == (
        "SmolLM2-135M-Instruct",
        2048,
        256,
    )
    examples = LLMModel.objects.filter(provider="openai")
    assert examples.count() >= 4
    assert not examples.filter(enabled=True).exists()
    openai_row = examples.get(slug="gpt-4o-mini")
    assert (openai_row.api_key_env, openai_row.base_url) == ("OPENAI_API_KEY", "https://api.openai.com/v1")
    assert examples.filter(base_url="http://127.0.0.1:11434/v1", upstream_model="llama3.2").exists()
    assert examples.filter(api_key_env="OPENROUTER_API_KEY").exists()
    assert set(Prompt.objects.values_list("category", flat=True)) >= {"writing", "coding", "learning"}


def test_models_lists_enabled_models_without_upstream_details(api_client):
    LLMModelFactory(slug="extra", api_key_env="SECRET_VAR", base_url="http://10.0.0.1/v1", order=5)
    response = api_client.get("/api/v1/models")
    assert response.status_code == 200
    body = response.json()
    slugs = [row["slug"] for row in body]
    assert slugs == ["smollm2-135m", "extra"]  # enabled only, in catalog order
    assert all(set(row) == PUBLIC_MODEL_FIELDS for row in body)
    assert "SECRET_VAR" not in response.content.decode()
    assert "10.0.0.1" not in response.content.decode()
    assert body[0]["is_default"] is True


def test_models_ignore_a_bad_bearer_token(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = api_client.get("/api/v1/models")
    assert response.status_code == 200
    assert response.json()[0]["slug"] == "smollm2-135m"


def test_prompts_list_enabled_and_filter_by_category(api_client):
    PromptFactory(title="Hidden", category="coding", enabled=False)
    response = api_client.get("/api/v1/prompts")
    assert response.status_code == 200
    titles = [row["title"] for row in response.json()]
    assert "Hidden" not in titles
    assert len(titles) == Prompt.objects.filter(enabled=True, language__in=("", "en")).count()

    coding = api_client.get("/api/v1/prompts", {"category": "coding"}).json()
    assert coding and {row["category"] for row in coding} == {"coding"}
    assert "Hidden" not in [row["title"] for row in coding]


def test_prompts_follow_the_readers_language(api_client):
    PromptFactory(title="For everyone", language="")
    english = [row["title"] for row in api_client.get("/api/v1/prompts", HTTP_ACCEPT_LANGUAGE="en").json()]
    korean = [row["title"] for row in api_client.get("/api/v1/prompts", HTTP_ACCEPT_LANGUAGE="ko-KR").json()]

    # The seeded starters exist in both languages; a reader gets theirs and those for everyone.
    assert "Improve my text" in english and "글 다듬기" not in english and "For everyone" in english
    assert "글 다듬기" in korean and "Improve my text" not in korean and "For everyone" in korean


def test_prompts_category_too_long_is_400(api_client):
    response = api_client.get("/api/v1/prompts", {"category": "x" * 61})
    assert response.status_code == 400
    assert "category" in response.json()


def test_prompts_ignore_a_bad_bearer_token(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer garbage")
    assert api_client.get("/api/v1/prompts").status_code == 200


def test_catalog_query_counts_do_not_grow(api_client, django_assert_num_queries):
    with django_assert_num_queries(1):
        api_client.get("/api/v1/models")
    for n in range(30):
        LLMModelFactory(slug=f"m{n}")
        PromptFactory()
    with django_assert_num_queries(1):
        assert len(api_client.get("/api/v1/models").json()) == 31
    with django_assert_num_queries(1):
        api_client.get("/api/v1/prompts")
