"""The REST API: CORS, DRF, JWTs, the OpenAPI document."""

from datetime import timedelta

from .django import SECRET_KEY
from .env import env, env_secret

# --- CORS -----------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = False
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After", "x-should-retry"]
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "last-event-id",
    "x-request-id",
    "x-device-id",
    # What OpenAI's SDKs send (openai-node in a browser with dangerouslyAllowBrowser), for /v1.
    "openai-organization",
    "openai-project",
    "openai-beta",
    "x-stainless-arch",
    "x-stainless-async",
    "x-stainless-helper-method",
    "x-stainless-lang",
    "x-stainless-os",
    "x-stainless-package-version",
    "x-stainless-read-timeout",
    "x-stainless-retry-count",
    "x-stainless-runtime",
    "x-stainless-runtime-version",
    "x-stainless-timeout",
]
# Origins allowed to call the OpenAI-compatible API (/v1/ only) from a browser, beside the ones
# above (which may call everything): comma-separated, "*" for any. Off (empty) by default.
CHAT_API_CORS_ORIGINS = env.list("CHAT_API_CORS_ORIGINS", default=[])

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.DeviceJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only, unless a view says otherwise (collector uploads take multipart, the login form
    # of Swagger's Authorize is form-encoded): any other body is a 415, as the schema says.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.DefaultPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.openapi.ApiAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["core.throttles.AnonThrottle", "core.throttles.UserThrottle"],
    # Rates are read through core.throttles at request time, so tests and operators can
    # change them without re-importing DRF.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="300/min"),
        "user": env("THROTTLE_USER", default="1200/min"),
        # Attempts per address (successes too): a cap on password hashing, never a lockout of an
        # owner elsewhere. Failed passwords are limited by accounts/lockout.py.
        "login_ip": env("THROTTLE_LOGIN_IP", default="20/min"),
        "register_ip": env("THROTTLE_REGISTER_IP", default="10/hour"),
        "refresh": env("THROTTLE_REFRESH", default="60/min"),
        "api_key": env("THROTTLE_API_KEY", default="600/min"),  # the OpenAI-compatible API, per key
    },
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

JWT_SIGNING_KEY = env_secret("JWT_SIGNING_KEY") or SECRET_KEY

# /metrics (core/metrics.py) answers the host itself, or a scraper with this bearer token.
METRICS_TOKEN = env_secret("METRICS_TOKEN", default="") or ""
# Within this many seconds of a rotation, presenting the just-rotated refresh token returns the same
# new pair (tabs and apps waking up race); after it, that is reuse and signs the device out.
JWT_REFRESH_REUSE_SECONDS = env.int("JWT_REFRESH_REUSE_SECONDS", default=10)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_SECONDS", default=300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_SECONDS", default=14 * 24 * 3600)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUDIENCE": env("JWT_AUDIENCE", default="chat-api"),
    "ISSUER": env("JWT_ISSUER", default="chat-server"),
    "LEEWAY": 0,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Chat API",
    "DESCRIPTION": (
        "Self-hosted ChatGPT-style service. Authenticate with `POST /api/v1/auth/login`, then send "
        "`Authorization: Bearer <access>`. Replies stream over Server-Sent Events "
        "(`GET /api/v1/conversations/{id}/stream`) or the WebSocket `/ws/conversations/{id}/`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    # Swagger UI and Redoc assets are served from this server (no CDN): works with no network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A reply source's kind (conversations, sharing) beside the collector item's kind.
    "ENUM_NAME_OVERRIDES": {
        "SourceKindEnum": ["file", "item", "web"],
        "ItemKindEnum": "collector.models.ItemKind",
        "LanguageEnum": ["", "en", "ko"],
        # OpenAI's list objects (/v1/models, /v1/embeddings) share their "object": "list".
        "ListObjectEnum": ["list"],
    },
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums"],
}
