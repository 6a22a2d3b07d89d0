"""Issue 18, hole 3: a model row may read its API key only from a variable the operator allows
(``CHAT_API_KEY_ENV_ALLOWED``), never from one of the server's own settings, on every path that
writes a row (the model's clean, the admin's form, the import) and when the key is read (the
provider: a row written before the rule). The live reproduction is in
tests/security_round3/test_holes_1_3_admin_and_model_secrets.py."""

import html

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conversations.llm import ProviderError, get_provider
from conversations.llm.keys import api_key_env_problem
from conversations.models import LLMModel
from tests.accounts.admin_forms import form_data
from tests.accounts.factories import UserFactory
from tests.conversations.factories import LLMModelFactory

pytestmark = pytest.mark.django_db

SERVER_SECRETS = ["DJANGO_SECRET_KEY", "DATABASE_URL", "EMAIL_HOST_PASSWORD", "SOCIAL_GOOGLE_SECRET", "JWT_SIGNING_KEY"]
MODELS = "/admin/conversations/llmmodel/"


@pytest.fixture
def staff(db) -> Client:
    client = Client()
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def model(db):
    return LLMModelFactory(slug="gpt-x", api_key_env="OPENAI_API_KEY")


@pytest.mark.parametrize("name", SERVER_SECRETS)
def test_the_model_refuses_the_servers_own_settings(model, name):
    model.api_key_env = name

    with pytest.raises(ValidationError) as refused:
        model.full_clean()

    assert list(refused.value.message_dict) == ["api_key_env"]
    assert "one of the server's own settings" in refused.value.message_dict["api_key_env"][0]


@pytest.mark.parametrize("name", SERVER_SECRETS)
def test_no_setting_lifts_the_deny_list(settings, name):
    settings.CHAT = {**settings.CHAT, "API_KEY_ENV_ALLOWED": ["*", name, "DJANGO_*"]}

    assert "one of the server's own settings" in api_key_env_problem(name)
    assert api_key_env_problem("ANYTHING_ELSE") is None


def test_only_the_names_the_operator_allows(settings):
    assert [api_key_env_problem(n) for n in ("", "OPENAI_API_KEY", "VLLM_API_KEY", "LLM_KEY_ANTHROPIC")] == [None] * 4
    assert "not an API key variable this server allows" in api_key_env_problem("HOME")
    assert "never the key itself" in api_key_env_problem("sk-abc123")

    settings.CHAT = {**settings.CHAT, "API_KEY_ENV_ALLOWED": ["ACME_KEY", "UPSTREAM_*"]}
    assert api_key_env_problem("UPSTREAM_ONE") is None and api_key_env_problem("ACME_KEY") is None
    assert api_key_env_problem("OPENAI_API_KEY") is not None


@pytest.mark.parametrize("name", SERVER_SECRETS)
def test_the_admin_form_refuses_them(staff, model, name):
    change = f"{MODELS}{model.pk}/change/"
    data = form_data(staff.get(change).content.decode(), "llmmodel_form", api_key_env=name)

    response = staff.post(change, data)

    assert response.status_code == 200
    assert "one of the server&#x27;s own settings" in response.content.decode()
    assert LLMModel.objects.get(pk=model.pk).api_key_env == "OPENAI_API_KEY"


def test_the_admin_form_still_saves_an_allowed_name(staff, model):
    change = f"{MODELS}{model.pk}/change/"
    data = form_data(staff.get(change).content.decode(), "llmmodel_form", api_key_env="LLM_KEY_ACME")

    assert staff.post(change, data).status_code == 302
    assert LLMModel.objects.get(pk=model.pk).api_key_env == "LLM_KEY_ACME"


def test_the_import_refuses_them(staff, model):
    rows = "".join(f"m{i},M {i},openai,m,http://127.0.0.1:9/v1,{name}\n" for i, name in enumerate(SERVER_SECRETS))
    content = "slug,display_name,provider,upstream_model,base_url,api_key_env\n" + rows
    upload = SimpleUploadedFile("models.csv", content.encode(), content_type="text/csv")

    preview = staff.post(f"{MODELS}import/", {"format": "0", "resource": "0", "import_file": upload})

    invalid = {row.number: row.error_dict for row in preview.context["result"].invalid_rows}
    assert sorted(invalid) == list(range(1, len(SERVER_SECRETS) + 1))
    assert all("one of the server's own settings" in str(errors["api_key_env"]) for errors in invalid.values())
    assert not LLMModel.objects.filter(slug__startswith="m").exclude(pk=model.pk).exists()


@pytest.mark.parametrize("name", SERVER_SECRETS)
def test_a_row_written_before_the_rule_never_reads_them(model, monkeypatch, name):
    monkeypatch.setenv(name, "the-servers-own-secret")
    LLMModel.objects.filter(pk=model.pk).update(api_key_env=name)

    provider = get_provider(LLMModel.objects.get(pk=model.pk))  # counting a prompt needs no key
    with pytest.raises(ProviderError) as refused:
        provider.api_key  # noqa: B018 - read when a request would be made

    assert refused.value.code == "api_key_env_refused"
    assert "the-servers-own-secret" not in str(refused.value)


def test_the_admin_shows_a_rows_problem_and_test_connection_reports_it(staff, model):
    LLMModel.objects.filter(pk=model.pk).update(api_key_env="DJANGO_SECRET_KEY")

    listing = html.unescape(staff.get(MODELS).content.decode())
    page = html.unescape(staff.get(f"{MODELS}{model.pk}/change/").content.decode())
    tested = staff.post(MODELS, {"action": "test_connection", "_selected_action": [model.pk]}, follow=True)

    assert "Refused: DJANGO_SECRET_KEY is one of the server's own settings" in listing
    assert "Refused: DJANGO_SECRET_KEY is one of the server's own settings" in page
    assert "gpt-x: failed: This model's API key variable is not allowed" in html.unescape(tested.content.decode())


def test_an_allowed_key_is_still_read(model, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-operator-key")

    provider = get_provider(model)

    assert provider.api_key == "sk-operator-key"
