"""Providers: the real local model, the real openai SDK against the test upstream, trimming."""

import asyncio

import pytest

from conversations.llm import Delta, ProviderError, get_provider
from conversations.llm.context import build_messages, estimate_tokens
from conversations.models import LLMModel
from tests.conversations.upstream import expected_text, upstream  # noqa: F401


def collect(provider, messages, **kw) -> list[Delta]:
    async def run():
        return [d async for d in provider.stream(messages, **kw)]

    return asyncio.run(run())


def openai_model(upstream, mode, **kw) -> LLMModel:  # noqa: F811
    return LLMModel(
        slug="t", provider="openai", upstream_model=mode, base_url=upstream.base_url, request_timeout_seconds=2, **kw
    )


@pytest.mark.slow
def test_the_local_model_answers_for_real_without_blocking_the_loop(local_model):
    # The embedded model's own server process, reached as an OpenAI-compatible upstream.
    model = LLMModel(slug="smollm2-135m", provider="local", upstream_model="SmolLM2-135M-Instruct", context_window=2048)
    provider = get_provider(model)
    messages = [{"role": "user", "content": "Say hello."}]

    async def run():
        ticks = 0
        deltas = []

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        clock = asyncio.create_task(ticker())
        async for delta in provider.stream(messages, max_tokens=8, temperature=0.0):
            deltas.append(delta)
        clock.cancel()
        return deltas, ticks

    deltas, ticks = asyncio.run(run())
    text = "".join(d.text for d in deltas)
    usage = deltas[-1].usage
    assert text.strip()
    assert 1 <= usage.completion_tokens <= 8
    assert usage.prompt_tokens > 0
    # The loop kept running while the model worked in its own process.
    assert ticks > 1
    assert provider.count_tokens("Hello world") >= 2
    asyncio.run(provider.check())


def test_the_openai_provider_streams_text_then_usage(upstream):  # noqa: F811
    provider = get_provider(openai_model(upstream, "normal:6"))
    deltas = collect(provider, [{"role": "user", "content": "hi"}], max_tokens=100, temperature=0.2)
    assert "".join(d.text for d in deltas) == expected_text(6)
    assert deltas[-1].usage.completion_tokens == 6
    assert all(d.usage is None for d in deltas[:-1])
    sent = upstream.requests[-1]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["max_tokens"] == 100


def test_the_api_key_comes_from_the_named_environment_variable(upstream, monkeypatch):  # noqa: F811
    monkeypatch.setenv("LLM_KEY_TEST_UPSTREAM", "sk-from-env")
    provider = get_provider(openai_model(upstream, "burst:1", api_key_env="LLM_KEY_TEST_UPSTREAM"))
    collect(provider, [{"role": "user", "content": "hi"}], max_tokens=5, temperature=0)
    assert upstream.headers[-1]["authorization"] == "Bearer sk-from-env"


def test_check_reports_a_reachable_server_and_a_missing_model(upstream):  # noqa: F811
    asyncio.run(get_provider(openai_model(upstream, "normal")).check())
    with pytest.raises(ProviderError, match="does not list 'gpt-x'"):
        asyncio.run(get_provider(openai_model(upstream, "gpt-x")).check())
    unreachable = LLMModel(slug="u", provider="openai", upstream_model="m", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ProviderError) as failure:
        asyncio.run(get_provider(unreachable).check())
    assert failure.value.code == "upstream_unreachable"


def test_no_retry_once_text_was_sent(upstream):  # noqa: F811
    before = len(upstream.requests)
    provider = get_provider(openai_model(upstream, "drop:10"))
    with pytest.raises(ProviderError):
        collect(provider, [{"role": "user", "content": "x"}], max_tokens=50, temperature=0)
    assert len(upstream.requests) - before == 1


def test_history_is_trimmed_oldest_first_keeping_the_system_prompt():
    history = []
    for i in range(50):
        history.append({"role": "user", "content": f"question {i} " + "x" * 200})
        history.append({"role": "assistant", "content": f"answer {i} " + "y" * 200})
    history.append({"role": "user", "content": "the newest question"})

    messages, max_tokens = build_messages(
        system_prompt="Be kind.", context_text="", history=history, context_window=1024, max_output_tokens=256
    )

    assert messages[0] == {"role": "system", "content": "Be kind."}
    assert messages[-1] == {"role": "user", "content": "the newest question"}
    assert messages[1]["role"] == "user"
    assert len(messages) < len(history)
    kept = messages[1:]
    assert kept == history[-len(kept) :]  # a suffix: the oldest turns went first
    total = sum(estimate_tokens(m["content"]) + 4 for m in messages)
    assert total + max_tokens <= 1024
    assert max_tokens == 256


def test_collector_context_is_included_and_truncated_to_fit():
    notes = "### Recipes\n" + "flour " * 5000
    messages, _ = build_messages(
        system_prompt="",
        context_text=notes,
        history=[{"role": "user", "content": "cake?"}],
        context_window=2048,
        max_output_tokens=512,
    )
    system = messages[0]["content"]
    assert "### Recipes" in system
    assert len(system) < len(notes)
    assert messages[-1] == {"role": "user", "content": "cake?"}


def test_an_overlong_question_alone_is_cut_from_its_start():
    question = "start " + "z" * 20000 + " the actual ask"
    messages, max_tokens = build_messages(
        system_prompt="",
        context_text="",
        history=[{"role": "user", "content": question}],
        context_window=512,
        max_output_tokens=128,
    )
    assert len(messages) == 1
    assert messages[0]["content"].endswith("the actual ask")
    assert estimate_tokens(messages[0]["content"]) + 4 + max_tokens <= 512
