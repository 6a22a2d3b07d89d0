"""Which environment variable a row that calls an upstream may read its API key from (a model's
``LLMModel.api_key_env``, the embedding settings' ``api_key_env``).

The key is sent as a bearer token to the row's base URL, which staff choose: a row naming
``DJANGO_SECRET_KEY`` and pointing at a listener of their own would hand them the server's
secret. So a row may name only what the operator allows (``CHAT["API_KEY_ENV_ALLOWED"]``, from
``CHAT_API_KEY_ENV_ALLOWED``: names, and ``PREFIX*`` patterns), and never one of the service's
own settings (``DENIED``, which no setting lifts).

:func:`api_key_env_problem` is the one rule: a row's ``clean()`` (the admin's form, the import)
asks it before a row is written, and each reader asks it again each time a key is read
(``conversations.llm.keys.api_key_from_env``, ``knowledge.embeddings``), so a row written before
the rule, or by a migration, never reads a forbidden variable.
"""

import re

from django.conf import settings

ENV_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# The service's own settings and secrets (config/settings/, env_secret's NAME and NAME_FILE), and
# libpq's (PGPASSWORD...), whatever CHAT_API_KEY_ENV_ALLOWED says. Compared in upper case.
DENIED = (
    "DJANGO_*",  # DJANGO_SECRET_KEY, DJANGO_SUPERUSER_PASSWORD...
    "DATABASE_*",
    "DB_*",
    "PG*",
    "REDIS_*",
    "EMAIL_*",
    "JWT_*",  # JWT_SIGNING_KEY
    "SOCIAL_*",  # SOCIAL_<PROVIDER>_CLIENT_ID, SOCIAL_<PROVIDER>_SECRET
    "METRICS_*",
    "DEMO_USER_*",
    "CHAT_*",
)
DEFAULT_ALLOWED = ("LLM_KEY_*", "OPENAI_API_KEY", "VLLM_API_KEY", "OPENROUTER_API_KEY")

NOT_A_NAME = (
    "Give the NAME of the environment variable that holds the API key (letters, digits and _), never the key itself."
)
REFUSED_AT_READ = (
    "This model's API key variable is not allowed on this server: an operator must correct the model "
    "(see its row in the admin)."
)


def _matches(name: str, patterns) -> bool:
    return any(
        name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern for pattern in patterns if pattern
    )


def allowed_patterns() -> tuple[str, ...]:
    return tuple(settings.CHAT.get("API_KEY_ENV_ALLOWED", DEFAULT_ALLOWED))


def api_key_env_problem(name: str) -> str | None:
    """Why a model row may not read its API key from ``name`` (None if it may, or names none)."""
    return env_name_problem(name, allowed=allowed_patterns(), setting="CHAT_API_KEY_ENV_ALLOWED")


def env_name_problem(name: str, *, allowed, setting: str) -> str | None:
    """Why a row may not read a secret from the variable ``name`` given the operator's ``allowed``
    patterns (``setting`` names where they come from); the service's own settings never."""
    if not name:
        return None
    if not ENV_VAR_NAME.fullmatch(name):
        return NOT_A_NAME  # not echoed: it may be a key pasted into the wrong field
    if _matches(name.upper(), DENIED):
        return f"{name} is one of the server's own settings: a model never reads it."
    if not _matches(name, allowed):
        listed = ", ".join(allowed) or "none"
        return f"{name} is not an API key variable this server allows; allowed: {listed} ({setting})."
    return None
