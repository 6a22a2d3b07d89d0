"""LLM providers behind one interface: ``get_provider(model).stream(...)`` and ``.check()``."""

from .base import Delta, Provider, ProviderError, Usage


def get_provider(model) -> Provider:
    # The embedded model runs in its own process behind llama-cpp-python's OpenAI-compatible server.
    if model.provider in ("openai", "local"):
        from .openai_provider import OpenAIProvider

        return OpenAIProvider(model)
    raise ProviderError(f"Unknown provider {model.provider!r}.", code="unknown_provider")


__all__ = ["Delta", "Provider", "ProviderError", "Usage", "get_provider"]
