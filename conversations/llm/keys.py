"""Which environment variable a model row may read its API key from (``LLMModel.api_key_env``):
the rule is core's (``core/api_key_env.py``, shared with the embedding settings of knowledge);
here, reading the key for a provider.
"""

import os

from core.api_key_env import (  # noqa: F401 (the rule's names, as the conversations app has always named them)
    DEFAULT_ALLOWED,
    DENIED,
    ENV_VAR_NAME,
    NOT_A_NAME,
    REFUSED_AT_READ,
    allowed_patterns,
    api_key_env_problem,
)

from .base import ProviderError


def api_key_from_env(name: str) -> str | None:
    """The key a model row names, read now; a refused name is a ProviderError (the reply's error,
    Test connection's answer), and nothing is read."""
    if not name:
        return None
    if api_key_env_problem(name) is not None:
        raise ProviderError(REFUSED_AT_READ, code="api_key_env_refused")
    return os.environ.get(name)
