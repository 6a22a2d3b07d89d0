"""Logging: request ids, secrets redacted, a rotating file several processes share."""

from .env import BASE_DIR, env

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FILE = env("LOG_FILE", default=str(BASE_DIR / "logs" / "app.log"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.logging.RequestIdFilter"},
        "redact": {"()": "core.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "standard": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "redact"],
            "formatter": "standard",
        },
        "file": {
            # Rotation guarded by a lock file, so several worker processes can share one log; the
            # handler makes the file's directory when it opens it (no mkdir at settings import).
            "class": "core.logging.SharedRotatingFileHandler",
            "filename": LOG_FILE,
            "maxBytes": env.int("LOG_FILE_MAX_BYTES", default=10 * 1024 * 1024),
            "backupCount": env.int("LOG_FILE_BACKUPS", default=5),
            "filters": ["request_id", "redact"],
            "formatter": "standard",
        },
    },
    "root": {"handlers": ["console", "file"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The loggers that write request lines redact them themselves (a reset key in an old
        # link's path, a token in a query string), before any handler, whoever attached it.
        "uvicorn.access": {
            "handlers": ["console", "file"],
            "level": LOG_LEVEL,
            "propagate": False,
            "filters": ["redact"],
        },
        "uvicorn.error": {"filters": ["redact"]},
        "django.request": {"filters": ["redact"]},
        "django.server": {"handlers": ["console", "file"], "level": "INFO", "propagate": False, "filters": ["redact"]},
        # The MCP SDK's HTTP client logs every request line (a tool server's address, a line per
        # call and per listing): their failures reach the log as the tools app words them.
        "httpx2": {"level": "WARNING"},
        "mcp": {"level": "WARNING"},
    },
}
