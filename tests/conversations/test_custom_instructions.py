"""Custom instructions (``UserSettings.custom_instructions``): placed before the chat's own system
prompt in every reply of the app, counted in the sources' budget, not added to /v1 requests, in the
user's export and gone with the account. What the model receives is read off a recording upstream."""

from types import SimpleNamespace

import httpx
import pytest

from accounts import services as account_services
from accounts.models import UserSettings
from conversations.generation import grounding
from conversations.models import OriginKind
from core.tokens import estimate_tokens
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.conversations.attached import text_model
from tests.conversations.upstream import upstream  # noqa: F401

INSTRUCTIONS = "저는 서울에 사는 개발자예요. 답은 한국어로, 짧게 해 주세요."


def instruct(user, text: str = INSTRUCTIONS) -> None:
    UserSettings.objects.filter(user=user).update(custom_instructions=text)


def sent_to_model(client, upstream, **body) -> dict:  # noqa: F811
    before = len(upstream.requests)
    response = client.post("/api/v1/conversations?wait=true", {"message": "Hello", **body}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["assistant_message"]["status"] == "complete"
    assert len(upstream.requests) == before + 1
    return upstream.requests[-1]


def systems(request: dict) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "system"]


@pytest.mark.django_db(transaction=True)
def test_the_instructions_come_first_then_the_chats_system_prompt(user_client, user, upstream):  # noqa: F811
    model = text_model(upstream)
    instruct(user)

    request = sent_to_model(user_client, upstream, model=model.slug, system_prompt="You are a chef.")

    assert systems(request) == [f"{INSTRUCTIONS}\n\nYou are a chef."]
    assert request["messages"][-1] == {"role": "user", "content": "Hello"}


@pytest.mark.django_db(transaction=True)
def test_instructions_alone_are_the_system_prompt_and_apply_to_every_reply(user_client, user, upstream):  # noqa: F811
    model = text_model(upstream)
    instruct(user, "  Be brief.  ")

    first = sent_to_model(user_client, upstream, model=model.slug)
    conversation_id = user_client.get("/api/v1/conversations").json()["results"][0]["id"]
    before = len(upstream.requests)
    response = user_client.post(
        f"/api/v1/conversations/{conversation_id}/messages?wait=true", {"content": "And again"}, format="json"
    )
    assert response.status_code == 201, response.content

    assert systems(first) == ["Be brief."]
    assert systems(upstream.requests[before]) == ["Be brief."]


@pytest.mark.django_db(transaction=True)
def test_without_instructions_the_model_gets_what_it_got_before(user_client, user, upstream):  # noqa: F811
    model = text_model(upstream)

    with_prompt = sent_to_model(user_client, upstream, model=model.slug, system_prompt="You are a chef.")
    without = sent_to_model(user_client, upstream, model=model.slug)

    assert systems(with_prompt) == ["You are a chef."]
    assert without["messages"] == [{"role": "user", "content": "Hello"}]  # no system message at all


@pytest.mark.django_db(transaction=True)
def test_another_users_instructions_stay_theirs(user_client, user, outsider, upstream):  # noqa: F811
    model = text_model(upstream)
    instruct(outsider, "Always answer in French.")

    request = sent_to_model(user_client, upstream, model=model.slug, system_prompt="You are a chef.")

    assert systems(request) == ["You are a chef."]


def _claimed(*, instructions: str, system_prompt: str = "Chat prompt.", origin_kind=OriginKind.NONE, options=None):
    return SimpleNamespace(
        instructions=instructions,
        conversation=SimpleNamespace(system_prompt=system_prompt, origin_kind=origin_kind),
        message=SimpleNamespace(generation_options=options or {}),
        model=SimpleNamespace(context_window=8192, max_output_tokens=512),
    )


def test_the_sources_budget_leaves_room_for_the_instructions():
    long_instructions = "Answer with care and cite what you use. " * 40
    without = grounding._budget(claimed=_claimed(instructions=""), question_cost=10)
    with_them = grounding._budget(claimed=_claimed(instructions=long_instructions), question_cost=10)

    assert without - with_them >= estimate_tokens(long_instructions.strip())


def test_an_api_requests_own_system_prompt_is_sent_as_it_is():
    api = _claimed(instructions=INSTRUCTIONS, origin_kind=OriginKind.API, options={"system": "Be terse."})
    assert grounding.system_prompt(claimed=api) == "Be terse."
    bare = _claimed(instructions=INSTRUCTIONS, system_prompt="", origin_kind=OriginKind.API, options={"system": ""})
    assert grounding.system_prompt(claimed=bare) == ""


@pytest.mark.slow
def test_v1_requests_do_not_get_the_users_instructions(asgi_server, user, upstream):  # noqa: F811
    model = text_model(upstream, "normal:3")
    instruct(user)
    _key, secret = account_services.api_key_create(user=user, name="script")
    before = len(upstream.requests)

    response = httpx.post(
        f"{asgi_server}/v1/chat/completions",
        headers={"Authorization": f"Bearer {secret}"},
        json={
            "model": model.slug,
            "messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}],
        },
        timeout=30,
    )

    assert response.status_code == 200, response.text
    sent = upstream.requests[before]
    assert [(m["role"], m["content"]) for m in sent["messages"]] == [("system", "Be terse."), ("user", "Hi")]


@pytest.mark.django_db
def test_the_instructions_are_gone_with_the_account(user_client, user):
    instruct(user)
    response = user_client.delete("/api/v1/user", {"password": DEFAULT_PASSWORD}, format="json")

    assert response.status_code == 204, response.content
    assert not UserSettings.objects.filter(custom_instructions=INSTRUCTIONS).exists()
