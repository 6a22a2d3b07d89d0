"""Replies to one upstream share an SDK client per event loop (building one costs ~35 ms of CPU)."""

import asyncio

from conversations.llm import get_provider
from conversations.models import LLMModel, Provider


def _model(**overrides) -> LLMModel:
    fields = {
        "slug": "m",
        "display_name": "m",
        "provider": Provider.OPENAI,
        "upstream_model": "m",
        "base_url": "http://127.0.0.1:9/v1",
        "request_timeout_seconds": 5.0,
    }
    return LLMModel(**{**fields, **overrides})  # unsaved: providers only read its fields


def test_one_client_per_loop_and_upstream(monkeypatch):
    monkeypatch.setenv("LLM_KEY_UPSTREAM", "k1")

    async def clients():
        same = get_provider(_model(api_key_env="LLM_KEY_UPSTREAM")).client
        again = get_provider(_model(api_key_env="LLM_KEY_UPSTREAM")).client
        other_upstream = get_provider(_model(api_key_env="LLM_KEY_UPSTREAM", base_url="http://127.0.0.1:10/v1")).client
        return same, again, other_upstream

    first_loop = asyncio.run(clients())
    second_loop = asyncio.run(clients())

    assert first_loop[0] is first_loop[1]
    assert first_loop[0] is not first_loop[2]
    assert first_loop[0] is not second_loop[0]  # an httpx pool never crosses event loops


def test_a_rotated_key_gets_a_new_client(monkeypatch):
    async def client_with(key):
        monkeypatch.setenv("LLM_KEY_UPSTREAM", key)
        return get_provider(_model(api_key_env="LLM_KEY_UPSTREAM")).client

    async def both():
        return await client_with("old"), await client_with("new")

    old, new = asyncio.run(both())
    assert old is not new
    assert new.api_key == "new"
