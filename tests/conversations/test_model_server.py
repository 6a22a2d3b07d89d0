"""The embedded model's own server process (conversations/llm/model_server.py), really built and run
on this machine's CPU, through the real openai SDK."""

import asyncio
import os

import pytest
from openai import AsyncOpenAI

from conversations.llm import model_server

PROMPTS = [  # more than one token each: a native build once crashed on the first multi-token prompt
    "Say hello in French, please.",
    "Name three colours of the rainbow.",
]


def test_command_runs_llama_cpp_server_on_the_shipped_model_without_interrupting_requests(monkeypatch):
    monkeypatch.setenv("CHAT_LOCAL_MODEL_THREADS", "3")

    argv = model_server.command("127.0.0.1", 9999)

    assert argv[:3] == [model_server.sys.executable, "-m", "llama_cpp.server"]
    flags = dict(zip(argv[3::2], argv[4::2], strict=True))
    assert os.path.isfile(flags["--model"])
    assert flags == {
        "--model": model_server.model_path(),
        "--model_alias": "SmolLM2-135M-Instruct",
        "--host": "127.0.0.1",
        "--port": "9999",
        "--n_ctx": "2048",
        "--n_threads": "3",
        "--interrupt_requests": "False",
    }


def test_environment_drops_variables_the_server_would_read_as_settings(monkeypatch):
    monkeypatch.setenv("API_KEY", "x")
    monkeypatch.setenv("VERBOSE", "false")
    monkeypatch.setenv("CONFIG_FILE", "/nonexistent")

    env = model_server.environment()

    assert not {"API_KEY", "VERBOSE", "CONFIG_FILE"} & set(env)
    assert env["PATH"] == os.environ["PATH"]


async def _stream(client: AsyncOpenAI, prompt: str, started: asyncio.Event | None = None) -> tuple[str, str]:
    stream = await client.chat.completions.create(
        model=model_server.MODEL_ALIAS,
        messages=[{"role": "user", "content": prompt}],
        max_tokens=32,
        temperature=0,
        stream=True,
    )
    text, finish_reason = "", None
    async for chunk in stream:
        choice = chunk.choices[0]
        text += choice.delta.content or ""
        finish_reason = choice.finish_reason or finish_reason
        if text and started is not None:
            started.set()
    return text, finish_reason


@pytest.mark.slow
async def test_streams_a_chat_completion_for_several_multi_token_prompts(model_server):
    client = AsyncOpenAI(base_url=model_server, api_key="x")

    models = await client.models.list()
    assert [m.id for m in models.data] == ["SmolLM2-135M-Instruct"]
    for prompt in PROMPTS:
        text, finish_reason = await _stream(client, prompt)
        assert text.strip()
        assert finish_reason in ("stop", "length")


@pytest.mark.slow
async def test_a_second_request_does_not_cut_the_reply_being_streamed(model_server):
    client = AsyncOpenAI(base_url=model_server, api_key="x")
    first_started = asyncio.Event()

    first = asyncio.create_task(_stream(client, "Write a long story about a cat and a dog.", first_started))
    await asyncio.wait_for(first_started.wait(), 30)  # the first reply is streaming...
    second = asyncio.create_task(_stream(client, PROMPTS[1]))  # ...when another user asks
    results = await asyncio.wait_for(asyncio.gather(first, second), 60)

    (first_text, first_finish), (second_text, second_finish) = results
    assert first_text.strip()
    assert first_finish == "length"  # all its tokens: with interrupt_requests on it would end early, without one
    assert second_text.strip()
    assert second_finish in ("stop", "length")
