"""The OpenAI-compatible API through the real ``openai`` SDK, against a real uvicorn on loopback
(streams are read as they arrive, not buffered), on the embedded model or the test upstream."""

import time

import httpx
import openai
import pytest

from accounts import services as account_services
from accounts.models import Plan
from accounts.services import user_settings_get
from conversations.models import Conversation, Message, MessageStatus, OriginKind, Role
from tests.conversations.factories import LLMModelFactory
from tests.conversations.upstream import expected_text, upstream  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture
def key(user):
    _key, secret = account_services.api_key_create(user=user, name="laptop script")
    return secret


@pytest.fixture
def client(asgi_server, key):
    with openai.OpenAI(base_url=f"{asgi_server}/v1", api_key=key, max_retries=0, timeout=60) as sdk:
        yield sdk


@pytest.fixture
def smollm(local_model):
    return LLMModelFactory(
        slug="smollm2-135m", provider="local", upstream_model="SmolLM2-135M-Instruct", base_url="", order=0
    )


@pytest.fixture
def fake(upstream):  # noqa: F811
    def model(spec: str):
        return LLMModelFactory(
            slug=spec.replace(":", "-").replace(".", "_"), upstream_model=spec, base_url=upstream.base_url
        )

    return model


def _wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_models_lists_what_the_keys_user_may_use(client, smollm):
    premium = LLMModelFactory(slug="premium-only")
    # (get_or_create: an earlier test over a live server may have flushed the seeded plans)
    pro, _ = Plan.objects.get_or_create(slug="pro", defaults={"name": "Pro", "daily_message_limit": 0})
    premium.plans.set([pro])
    ids = [model.id for model in client.models.list()]
    assert "smollm2-135m" in ids and "premium-only" not in ids


def test_a_whole_completion_from_the_embedded_model(client, smollm, user):
    completion = client.chat.completions.create(
        model="smollm2-135m",
        messages=[{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Say hello."}],
        max_tokens=24,
    )
    choice = completion.choices[0]
    assert completion.object == "chat.completion" and completion.model == "smollm2-135m"
    assert choice.message.role == "assistant" and choice.message.content.strip()
    assert choice.finish_reason in ("stop", "length")
    assert completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    # One ledger: a conversation of the API's own, with the key as its source, hidden from the app.
    conversation = Conversation.objects.get(owner=user)
    assert conversation.origin_kind == OriginKind.API and conversation.api_key is not None
    assert Message.objects.filter(conversation=conversation, role=Role.USER).count() == 1


def test_a_streamed_completion_with_usage(client, smollm):
    stream = client.chat.completions.create(
        model="smollm2-135m",
        messages=[{"role": "user", "content": "Count from one to five."}],
        max_completion_tokens=32,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert text.strip()
    assert finishes in (["stop"], ["length"])
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0


def test_finish_reason_is_length_when_max_tokens_cuts_the_answer(client, fake):
    fake("normal:50")
    completion = client.chat.completions.create(
        model="normal-50", messages=[{"role": "user", "content": "go"}], max_tokens=5
    )
    # The test upstream stops at max_tokens and says "length", as a real server does.
    assert completion.choices[0].finish_reason == "length"


def test_the_requests_turns_and_options_reach_the_upstream(client, fake, upstream):  # noqa: F811
    fake("normal:3")
    client.chat.completions.create(
        model="normal-3",
        messages=[
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
            {"role": "user", "content": [{"type": "text", "text": "second"}, {"type": "text", "text": "question"}]},
        ],
        max_tokens=7,
        temperature=0.3,
        stop=["END"],
    )
    sent = next(body for body in reversed(upstream.requests) if body["model"] == "normal:3")
    assert [(m["role"], m["content"]) for m in sent["messages"]] == [
        ("system", "Be terse."),
        ("user", "first question"),
        ("assistant", "first answer"),
        ("user", "second\nquestion"),
    ]
    assert (sent["max_tokens"], sent["temperature"], sent["stop"]) == (7, 0.3, ["END"])


def test_a_revoked_key_is_an_authentication_error(client, user):
    for key in user.api_keys.all():
        account_services.api_key_revoke(key=key)
    with pytest.raises(openai.AuthenticationError) as exc:
        client.models.list()
    assert exc.value.body["code"] == "invalid_api_key"


def test_a_session_token_is_not_an_api_key(asgi_server, user_client):
    access = user_client.session_tokens.access
    with openai.OpenAI(base_url=f"{asgi_server}/v1", api_key=access, max_retries=0) as sdk:
        with pytest.raises(openai.AuthenticationError):
            sdk.models.list()


def test_an_unknown_model_is_not_found(client, smollm):
    with pytest.raises(openai.NotFoundError) as exc:
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "hi"}])
    assert exc.value.body["code"] == "model_not_found" and exc.value.body["param"] == "model"


def test_bad_requests_name_the_parameter(client, smollm):
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model="smollm2-135m", messages=[{"role": "user", "content": "hi"}], n=3)
    assert exc.value.body["param"] == "n"
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model="smollm2-135m", messages=[{"role": "wizard", "content": "hi"}])
    assert exc.value.body["param"] == "messages[0].role"


def test_the_app_and_the_api_share_the_daily_quota(client, fake, user, user_client):
    fake("normal:3")
    Plan.objects.filter(pk=user_settings_get(user=user).plan_id).update(daily_message_limit=2)
    sent = user_client.post("/api/v1/conversations", {"message": "from the app", "model": "normal-3"}, format="json")
    assert sent.status_code == 201
    _wait_until(
        lambda: not Message.objects.filter(status__in=(MessageStatus.PENDING, MessageStatus.STREAMING)).exists()
    )
    client.chat.completions.create(model="normal-3", messages=[{"role": "user", "content": "from the api"}])
    with pytest.raises(openai.RateLimitError) as exc:
        client.chat.completions.create(model="normal-3", messages=[{"role": "user", "content": "one too many"}])
    assert exc.value.body["code"] == "daily_quota_exceeded"
    assert int(exc.value.response.headers["Retry-After"]) > 0
    assert exc.value.response.headers["x-should-retry"] == "false"  # the SDK must not retry it


def test_a_client_that_leaves_mid_stream_stops_its_reply_counted_once(asgi_server, key, fake, user):
    fake("slow:200")
    body = {"model": "slow-200", "messages": [{"role": "user", "content": "go"}], "stream": True}
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.stream("POST", f"{asgi_server}/v1/chat/completions", json=body, headers=headers, timeout=30) as r:
        assert r.status_code == 200
        for _ in zip(range(4), r.iter_lines(), strict=False):
            pass  # a few chunks, then the client goes away
    reply = Message.objects.get(conversation__owner=user, role=Role.ASSISTANT)
    # As OpenAI's API does: nobody reads it any more, so it stops (well before its 200 tokens),
    # frees the plan's concurrent-reply slot and is saved once.
    _wait_until(lambda: Message.objects.get(pk=reply.pk).status not in (MessageStatus.PENDING, MessageStatus.STREAMING))
    reply.refresh_from_db()
    assert reply.status == MessageStatus.STOPPED and reply.completion_tokens < 200
    assert Message.objects.filter(conversation__owner=user, role=Role.USER).count() == 1  # counted once
    assert Message.objects.filter(conversation__owner=user, role=Role.ASSISTANT).count() == 1


def test_a_failing_model_is_a_server_error_whole_or_streamed(client, fake):
    fake("http500")
    with pytest.raises(openai.InternalServerError) as exc:  # 503: trying again may work
        client.chat.completions.create(model="http500", messages=[{"role": "user", "content": "hi"}])
    assert exc.value.status_code == 503 and exc.value.body["type"] == "server_error"
    fake("drop:10")
    stream = client.chat.completions.create(model="drop-10", messages=[{"role": "user", "content": "hi"}], stream=True)
    with pytest.raises(openai.APIError):  # an error event, never a [DONE] after half a reply
        list(stream)


def test_content_is_not_kept_by_default_usage_is(client, fake, user, settings):
    fake("normal:6")
    completion = client.chat.completions.create(
        model="normal-6",
        messages=[{"role": "system", "content": "secret system"}, {"role": "user", "content": "secret question"}],
    )
    assert completion.choices[0].message.content == expected_text(6)
    conversation = Conversation.objects.get(owner=user)
    assert conversation.system_prompt == ""
    rows = list(
        Message.objects.filter(conversation=conversation).values("content", "completion_tokens", "generation_options")
    )
    assert all(row["content"] == "" for row in rows)
    assert any(row["completion_tokens"] == 6 for row in rows)
    assert "secret" not in str(rows)


def test_content_is_kept_when_the_setting_says_so(client, fake, user, settings):
    settings.CHAT = {**settings.CHAT, "API_KEEP_CONTENT": True}
    fake("normal:4")
    client.chat.completions.create(model="normal-4", messages=[{"role": "user", "content": "keep me"}])
    reply = Message.objects.get(conversation__owner=user, role=Role.ASSISTANT)
    assert reply.content == expected_text(4)
    assert Message.objects.get(conversation__owner=user, role=Role.USER).content == "keep me"


def test_api_conversations_are_not_listed_in_the_app(client, fake, user_client):
    fake("normal:2")
    client.chat.completions.create(model="normal-2", messages=[{"role": "user", "content": "hi"}])
    assert user_client.get("/api/v1/conversations").json()["count"] == 0


def test_a_key_over_its_request_rate_is_rate_limited(client, smollm, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "api_key": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client.models.list()
    client.models.list()
    with pytest.raises(openai.RateLimitError) as exc:
        client.models.list()
    assert exc.value.body["code"] == "rate_limit_exceeded"
    assert 0 < int(exc.value.response.headers["Retry-After"]) <= 60


def test_messages_beyond_the_models_window_are_refused_as_openai_does(client, fake):
    model = fake("normal:2")
    model.context_window = 64
    model.save()
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model="normal-2", messages=[{"role": "user", "content": "word " * 200}])
    assert (exc.value.body["code"], exc.value.body["param"]) == ("context_length_exceeded", "messages")


def test_numbers_are_json_numbers(asgi_server, key, fake):
    fake("normal:2")
    body = {"model": "normal-2", "messages": [{"role": "user", "content": "hi"}], "temperature": "0.7"}
    r = httpx.post(f"{asgi_server}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "temperature"
