"""True token counts and the window check on ``/v1``, through the real ``openai`` SDK against a live
server: the embedded model's prompt counted by its own tokenizer, a request over the window refused
before anything is charged, never cut; usage never characters / 4."""

import asyncio

import httpx
import openai
import pytest

from accounts import services as account_services
from conversations.llm import get_provider
from conversations.llm.tokens import api_messages, chatml
from conversations.models import Conversation, LedgerEntry, Message
from core.tokens import estimate_tokens
from tests.conversations.factories import LLMModelFactory
from tests.conversations.upstream import upstream  # noqa: F401

pytestmark = pytest.mark.slow

KOREAN = "안녕하세요, 오늘은 날씨가 맑고 바람이 시원합니다. 도서관에 가서 책을 읽을 계획입니다. " * 25
PROSE = (
    "The old lighthouse keeper climbed the narrow stairs every evening, carrying a lantern and a notebook "
    "in which he wrote down the weather, the ships he saw and the birds that rested on the railing. "
)
ENGLISH_7500 = (PROSE * 40)[:7500]
ENGLISH_9000 = (PROSE * 50)[:9000]  # about 1,800 of the embedded model's tokens


@pytest.fixture
def key(user):
    _key, secret = account_services.api_key_create(user=user, name="agent")
    return secret


@pytest.fixture
def client(asgi_server, key):
    with openai.OpenAI(base_url=f"{asgi_server}/v1", api_key=key, max_retries=0, timeout=300) as sdk:
        yield sdk


@pytest.fixture
def smollm(local_model):
    # The seeded row's limits: a 2,048-token window, 256 tokens of output.
    return LLMModelFactory(
        slug="smollm2-135m",
        provider="local",
        upstream_model="SmolLM2-135M-Instruct",
        base_url="",
        context_window=2048,
        max_output_tokens=256,
    )


def _nothing_charged(user):
    assert not LedgerEntry.objects.exists()
    assert not Conversation.objects.filter(owner=user).exists()
    assert not Message.objects.exists()


def _model_counts(model_server: str, messages: list[dict]) -> int:
    """The prompt tokens the embedded model itself reports for ``messages`` (a whole completion)."""
    body = {"model": "SmolLM2-135M-Instruct", "messages": messages, "max_tokens": 1}
    return httpx.post(f"{model_server}/chat/completions", json=body, timeout=60).json()["usage"]["prompt_tokens"]


def test_the_embedded_models_prompt_is_counted_by_its_own_tokenizer(db, smollm, model_server):
    provider = get_provider(smollm)
    for messages in (
        [{"role": "user", "content": "Say hi"}],
        [{"role": "system", "content": "Answer in one word."}, {"role": "user", "content": "Say hi"}],
        [{"role": "user", "content": "안녕하세요? 서울의 날씨는 어떤가요?"}],
        [
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
            {"role": "user", "content": "second question with <|im_end|> in it"},
        ],
    ):
        counted = asyncio.run(provider.count_prompt(messages))
        assert counted == _model_counts(model_server, messages), messages
        assert counted == provider.count_prompt_sync(messages)
        # The estimate (what a count falls back to) is never less, Korean included.
        assert provider.estimate_prompt(messages) >= counted
    # "Say hi" is 32 tokens to the model (its default system prompt, the template's markers), not 2.
    assert asyncio.run(provider.count_prompt([{"role": "user", "content": "Say hi"}])) > 20


def test_the_estimate_is_conservative_for_korean_and_english(db, smollm):
    provider = get_provider(smollm)
    for text in (KOREAN, ENGLISH_7500, "뷁꿻쀍쮋퓛훿" * 20, "1234567890" * 50):
        counted = asyncio.run(provider.tokenizer.acount(text))
        assert estimate_tokens(text) >= counted, text[:20]


def test_a_tokenizer_that_does_not_answer_falls_back_to_the_estimate(db, settings):
    model = LLMModelFactory(slug="gone", provider="local", upstream_model="x", base_url="http://127.0.0.1:9/v1")
    provider = get_provider(model)
    messages = [{"role": "user", "content": KOREAN}]
    assert asyncio.run(provider.count_prompt(messages)) == estimate_tokens(chatml(messages))
    assert provider.count_prompt_sync(messages) == provider.estimate_prompt(messages)


def test_korean_over_the_window_is_a_400_and_nothing_is_charged(client, smollm, user):
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model="smollm2-135m", messages=[{"role": "user", "content": KOREAN}])
    error = exc.value.body
    assert (error["code"], error["param"], error["type"]) == (
        "context_length_exceeded",
        "messages",
        "invalid_request_error",
    )
    assert error["message"].startswith("This model's maximum context length is 2048 tokens. However, your messages")
    _nothing_charged(user)


def test_prompt_and_completion_over_the_window_are_refused_in_openais_words(client, smollm, user):
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(
            model="smollm2-135m", messages=[{"role": "user", "content": ENGLISH_9000}], max_tokens=256
        )
    message = exc.value.body["message"]
    prompt = asyncio.run(get_provider(smollm).count_prompt([{"role": "user", "content": ENGLISH_9000}]))
    assert prompt < 2048 < prompt + 256
    assert message == (
        f"This model's maximum context length is 2048 tokens. However, you requested {prompt + 256} tokens "
        f"({prompt} in the messages, 256 in the completion). Please reduce the length of the messages or completion."
    )
    assert exc.value.body["code"] == "context_length_exceeded"
    _nothing_charged(user)


def test_a_7500_character_english_prompt_is_never_cut(client, smollm, user):
    """Without max_tokens it fits the embedded model (about 1,500 of its tokens): it is sent whole,
    the completion's room what the window has left; on a model counted by the estimate (no
    tokenizer) and the same window it is refused. Never cut from its start."""
    messages = [{"role": "user", "content": ENGLISH_7500}]
    completion = client.chat.completions.create(model="smollm2-135m", messages=messages)
    prompt = asyncio.run(get_provider(smollm).count_prompt(messages))
    assert completion.usage.prompt_tokens == prompt  # what was sent is what was counted: all of it
    reply = Message.objects.get(role="assistant")
    assert reply.generation_options["max_tokens"] == min(256, 2048 - prompt)


def test_a_7500_character_english_prompt_to_a_model_without_a_tokenizer_is_refused_not_cut(
    client,
    user,
    upstream,  # noqa: F811
):
    LLMModelFactory(slug="small", upstream_model="normal:3", base_url=upstream.base_url, context_window=2048)
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model="small", messages=[{"role": "user", "content": ENGLISH_7500}])
    assert exc.value.body["code"] == "context_length_exceeded"
    assert upstream.requests == []
    _nothing_charged(user)


def test_max_tokens_over_the_models_limit_is_refused_naming_the_param_sent(client, smollm, user):
    for param in ("max_tokens", "max_completion_tokens"):
        with pytest.raises(openai.BadRequestError) as exc:
            client.chat.completions.create(
                model="smollm2-135m", messages=[{"role": "user", "content": "hi"}], **{param: 257}
            )
        assert exc.value.body["param"] == param
        assert exc.value.body["message"] == (
            f"{param} is too large: 257. This model supports at most 256 completion tokens, whereas you provided 257."
        )
    _nothing_charged(user)


def test_the_requests_messages_reach_the_upstream_as_sent_with_the_room_decided(
    client,
    user,
    upstream,  # noqa: F811
):
    model = LLMModelFactory(
        slug="mid", upstream_model="normal:3", base_url=upstream.base_url, context_window=4096, max_output_tokens=1024
    )
    turns = [
        {"role": "user", "content": "old question " * 300},
        {"role": "assistant", "content": "old answer " * 300},
        {"role": "user", "content": "new question"},
    ]
    sent = [{"role": "system", "content": "Be terse."}, *turns]
    completion = client.chat.completions.create(model="mid", messages=sent)
    prompt = get_provider(model).estimate_prompt(api_messages("Be terse.", turns))
    body = upstream.requests[-1]
    assert body["messages"] == sent  # nothing trimmed, nothing cut
    assert body["max_tokens"] == min(1024, 4096 - prompt)
    # The upstream's own usage when it reports it.
    assert completion.usage.completion_tokens == 3


def test_usage_of_the_embedded_model_is_counted_by_its_tokenizer(client, smollm):
    messages = [{"role": "user", "content": "Name three colours."}]
    completion = client.chat.completions.create(model="smollm2-135m", messages=messages, max_tokens=24)
    provider = get_provider(smollm)
    assert completion.usage.prompt_tokens == asyncio.run(provider.count_prompt(messages))
    text = completion.choices[0].message.content
    assert completion.usage.completion_tokens == asyncio.run(provider.tokenizer.acount(text))


def test_tool_definitions_count_toward_the_window(client, user, upstream):  # noqa: F811
    """A template writes the tools into the prompt: a request whose tools alone overflow the window
    is refused before any upstream call, not sent to fail there."""
    LLMModelFactory(
        slug="agent", upstream_model="tools", base_url=upstream.base_url, context_window=2048, capabilities=["tools"]
    )
    big = {
        "type": "function",
        "function": {"name": "lookup", "description": "word " * 3000, "parameters": {"type": "object"}},
    }
    before = len(upstream.requests)
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model="agent", messages=[{"role": "user", "content": "hi"}], tools=[big])
    assert exc.value.body["code"] == "context_length_exceeded"
    assert len(upstream.requests) == before
    _nothing_charged(user)


def test_the_upstreams_own_window_refusal_is_said_as_ours_and_not_charged(client, user, upstream):  # noqa: F811
    """Our count of a model without our tokenizer is an estimate: when the upstream's tokenizer
    finds more, its refusal reaches the client as the same 400 ``context_length_exceeded``."""
    LLMModelFactory(slug="narrow", upstream_model="window:200", base_url=upstream.base_url, context_window=8192)
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model="narrow", messages=[{"role": "user", "content": "가" * 300}])
    assert exc.value.body["code"] == "context_length_exceeded" and exc.value.body["param"] == "messages"
    assert "maximum context length is 200" in exc.value.body["message"]
    # The reply was asked for and failed before its first token: in the ledger, not in the quota.
    from conversations.quota import charged

    assert LedgerEntry.objects.filter(user=user).count() == 1
    assert not LedgerEntry.objects.filter(charged(), user=user).exists()
    assert client.chat.completions.create(model="narrow", messages=[{"role": "user", "content": "hi"}]).choices
