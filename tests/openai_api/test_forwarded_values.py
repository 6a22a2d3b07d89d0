"""Values that equal ``False`` in Python but are not OpenAI's defaults reach the upstream:
``parallel_tool_calls: false`` (one tool call at a time), ``seed: 0``, ``top_p: 0``. Found with
real clients (tests/clients/matrix.py): ``parallel_tool_calls: false`` was dropped without a word."""

import openai
import pytest

from accounts import services as account_services
from tests.conversations.factories import LLMModelFactory
from tests.conversations.upstream import upstream  # noqa: F401

pytestmark = pytest.mark.slow

WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CLOCK = {"type": "function", "function": {"name": "clock", "parameters": {"type": "object", "properties": {}}}}


@pytest.fixture
def client(asgi_server, user):
    _key, secret = account_services.api_key_create(user=user, name="values")
    with openai.OpenAI(base_url=f"{asgi_server}/v1", api_key=secret, max_retries=0, timeout=60) as sdk:
        yield sdk


def _sent(upstream, spec: str) -> dict:  # noqa: F811
    return next(body for body in reversed(upstream.requests) if body["model"] == spec)


def test_parallel_tool_calls_false_reaches_the_upstream_and_one_call_comes_back(client, upstream):  # noqa: F811
    LLMModelFactory(slug="tools", upstream_model="tools", base_url=upstream.base_url, capabilities=["tools"])
    completion = client.chat.completions.create(
        model="tools",
        messages=[{"role": "user", "content": "Seoul"}],
        tools=[WEATHER, CLOCK],
        parallel_tool_calls=False,
    )
    assert _sent(upstream, "tools")["parallel_tool_calls"] is False
    assert [call.function.name for call in completion.choices[0].message.tool_calls] == ["weather"]


def test_zero_seed_and_top_p_reach_the_upstream_and_logprobs_false_is_left_out(client, upstream):  # noqa: F811
    LLMModelFactory(slug="normal-3", upstream_model="normal:3", base_url=upstream.base_url)
    client.chat.completions.create(
        model="normal-3", messages=[{"role": "user", "content": "hi"}], seed=0, top_p=0, logprobs=False
    )
    sent = _sent(upstream, "normal:3")
    assert sent["seed"] == 0 and sent["top_p"] == 0
    assert "logprobs" not in sent
