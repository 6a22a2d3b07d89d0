"""Request ids on every log line, and a filter that keeps secrets out of the logs."""

import contextvars
import logging
import re
import uuid
from pathlib import Path

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from concurrent_log_handler import ConcurrentRotatingFileHandler

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Takes a sane ``X-Request-ID`` from the client (or makes one) and echoes it back."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def _begin(self, request) -> None:
        # META, not request.headers: building the headers mapping costs more than the rest here.
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = rid
        # Not reset on the way out: Django logs the response ("django.request") after the
        # middleware chain returns, and that line should carry the id too. The next request
        # sets its own id before logging anything.
        request_id_var.set(rid)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        self._begin(request)
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response

    async def __acall__(self, request):
        self._begin(request)
        response = await self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


# Paths whose rest is a secret, whatever it holds: the web client's reset page, whose key older
# reset links carry in the path (new links carry it in the fragment, which no request sends).
_PRIVATE_PATH = r"(?i)(/reset-password)(?:/|%2F|\?|;)"
# Within one argument (a request's path, as uvicorn and django.request log it): to its end, so a
# path holding spaces or quotes loses all of it.
_PRIVATE_PATH_ARGUMENT = re.compile(_PRIVATE_PATH + r".*", re.DOTALL)

# Secret paths, JWTs, bearer credentials, password/token fields in query strings, JSON or form
# bodies, and OAuth's one-time codes in query strings (a provider's callback, our own handoff).
_SECRET_PATTERNS = [
    (re.compile(_PRIVATE_PATH + r"[^\s\"'<>]*"), r"\1/[REDACTED]"),
    (re.compile(r"(?i)([?&;](?:code|state)=)[^&\s\"'#]+"), r"\1[REDACTED]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[REDACTED-JWT]"),
    # Personal API keys (accounts.services.api_key_create: "sk-" and 43 URL-safe characters).
    (re.compile(r"sk-[A-Za-z0-9_-]{16,}"), "[REDACTED-API-KEY]"),
    (re.compile(r"(?i)(bearer\s+)[^\s'\",]+"), r"\1[REDACTED]"),
    (re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\",}]+"), r"\1[REDACTED]"),
    (
        re.compile(
            r"(?i)((?:password|new_password|old_password|refresh|access|token|secret|api_key|key)"
            r"['\"]?\s*[:=]\s*['\"]?)[^'\"&\s,}]+"
        ),
        r"\1[REDACTED]",
    ),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_argument(value):
    if not isinstance(value, str):
        return value
    return redact(_PRIVATE_PATH_ARGUMENT.sub(r"\1/[REDACTED]", value))


class RedactSecretsFilter(logging.Filter):
    """Redacts each string argument, then the formatted message, so secrets in ``args`` are caught
    whatever the format string. Arguments keep their shape when that is enough (uvicorn's access
    formatter unpacks them); otherwise the record becomes the redacted message alone.

    On every handler of ours, and on the loggers that write request lines (``uvicorn.access``,
    ``uvicorn.error``, ``django.request``, ``django.server``: settings.LOGGING), so their records
    are clean before any handler sees them, an operator's or a library's included.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            return self._clean(record)
        except ImportError:
            # At interpreter exit (a library's finaliser logging "unclosed session") the regex
            # module can no longer import what it needs: a record that cannot be cleaned is
            # dropped, never written as it came.
            return False

    def _clean(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_argument(value) for value in record.args)
        elif isinstance(record.args, dict):  # "%(name)s" formats
            record.args = {key: _redact_argument(value) for key, value in record.args.items()}
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


class SharedRotatingFileHandler(ConcurrentRotatingFileHandler):
    """A rotating log file several processes share (rotation under a lock file), whose directory
    is made when the handler opens it, not when the settings are imported."""

    def __init__(self, filename, *args, **kwargs):
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(filename, *args, **kwargs)
