"""Request bodies are refused by their size before they are read.

Django's ASGI handler reads a whole body into a temporary file (spilling to disk past
``FILE_UPLOAD_MAX_MEMORY_SIZE``) before any middleware or view runs, so a size check in a view
comes after the disk is already filled: an anonymous 400 MB POST to ``/auth/login`` left ~380 MB
in a temporary file before its 400. This ASGI middleware sits in front of Django: a declared
``Content-Length`` over the route's limit is answered 413 without reading a byte (a client that
sent ``Expect: 100-continue`` never sends the body), and a body without one (chunked) is counted as
it arrives and cut off at the limit, Django being told the client went away.

The limits per route are ``settings.REQUEST_BODY_LIMITS`` (the first matching path prefix and
method wins), else ``REQUEST_MAX_BODY_BYTES``; docs/deployment.md's proxy example states the same
figures, so the proxy refuses first.
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _

_DIGITS = re.compile(rb"[0-9]{1,20}")
REQUEST_TOO_LARGE = "request_too_large"


def body_rule(method: str, path: str) -> tuple[int, str]:
    """The most bytes a request body may hold on this route, and the ``code`` of its 413: an
    upload route says ``file_too_large``, as its view does for a file just over the file limit."""
    rules: list[tuple] = settings.REQUEST_BODY_LIMITS  # (prefix, methods, limit[, code])
    for rule in rules:
        prefix, methods, limit = rule[0], rule[1], rule[2]
        if path.startswith(prefix) and (not methods or method in methods):
            return int(limit), (str(rule[3]) if len(rule) > 3 else REQUEST_TOO_LARGE)
    return settings.REQUEST_MAX_BODY_BYTES, REQUEST_TOO_LARGE


def body_limit(method: str, path: str) -> int:
    """The most bytes a request body may hold on this route."""
    return body_rule(method, path)[0]


def _refusal(path: str, status: int, detail: str, code: str) -> bytes:
    body: dict[str, object]
    if path.startswith("/v1/"):  # the OpenAI-compatible API answers in OpenAI's shape
        body = {"error": {"message": detail, "type": "invalid_request_error", "param": None, "code": code}}
    else:
        body = {"detail": detail, "code": code}
    return json.dumps(body).encode()


def header_language(scope) -> str:
    """The request's language from its ``Accept-Language`` (this runs before Django's
    LocaleMiddleware and before anyone is signed in), else ``LANGUAGE_CODE``."""
    header = next((value for name, value in scope.get("headers", ()) if name == b"accept-language"), b"")
    # Django's own rule, given the one header it reads (no cookies: the API sets none).
    request = HttpRequest()
    request.META["HTTP_ACCEPT_LANGUAGE"] = header.decode("latin-1")
    return translation.get_language_from_request(request)


async def _answer(send, path: str, status: int, detail: str, code: str) -> None:
    body = _refusal(path, status, detail, code)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _too_large(limit: int) -> str:
    return _("The request body is larger than this endpoint takes (%(limit)d bytes at most).") % {"limit": limit}


class BodySizeLimitMiddleware:
    """ASGI middleware (HTTP only) enforcing :func:`body_limit`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        language = header_language(scope)
        limit, code = body_rule(scope.get("method", "GET"), path)
        declared = [value for name, value in scope.get("headers", ()) if name == b"content-length"]
        if declared:
            # Only plain digits: "+5", " 5", "5,5" or two headers are not a length.
            if len(declared) > 1 or not _DIGITS.fullmatch(declared[0]):
                with translation.override(language):
                    detail = _("Content-Length is not a number of bytes.")
                return await _answer(send, path, 400, detail, "bad_request")
            if int(declared[0]) > limit:
                with translation.override(language):
                    detail = _too_large(limit)
                return await _answer(send, path, 413, detail, code)

        received = 0
        cut_off = False
        started = False

        async def counting_receive():
            nonlocal received, cut_off
            if cut_off:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Django's body reader takes this as a client gone away and stops reading.
                    cut_off = True
                    return {"type": "http.disconnect"}
            return message

        async def watching_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, watching_send)
        if cut_off and not started:
            with translation.override(language):
                detail = _too_large(limit)
            await _answer(send, path, 413, detail, code)
