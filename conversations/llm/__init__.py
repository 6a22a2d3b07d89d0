"""LLM providers behind one interface: ``get_provider(model).stream(...)`` and ``.check()``.

Every upstream speaks OpenAI's protocol; the embedded model runs in its own process behind
llama-cpp-python's OpenAI-compatible server (provider ``local``). Imported at start, so the first
reply does not pay for importing the SDK.
"""

from django.utils.translation import gettext as _

from .base import Delta, Provider, ProviderError, Usage
from .openai_provider import OpenAIProvider


def get_provider(model) -> Provider:
    if model.provider in ("openai", "local"):
        return OpenAIProvider(model)
    raise ProviderError(
        _("Unknown provider %(provider)s.") % {"provider": repr(model.provider)}, code="unknown_provider"
    )


__all__ = ["Delta", "Provider", "ProviderError", "Usage", "get_provider"]
