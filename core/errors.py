"""Errors outside DRF's views (unknown paths, crashes, oversize bodies) answer JSON on the API.

DRF's exception handler only sees exceptions raised inside its views; Django renders the rest as
HTML pages. Under ``/api/`` (and allauth's headless ``/_allauth/``) a client always gets
``{"detail", "code"}``, under the OpenAI-compatible ``/v1/`` OpenAI's ``{"error": {...}}``;
elsewhere (the admin, the share page, the web client) the HTML pages stay.
"""

import logging

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from .http import is_api_request

logger = logging.getLogger(__name__)


def _json_error(request, status: int, detail: str, code: str) -> JsonResponse:
    if request.path.startswith("/v1/"):
        error_type = "server_error" if status >= 500 else "invalid_request_error"
        body = {"error": {"message": detail, "type": error_type, "param": None, "code": code}}
        return JsonResponse(body, status=status)
    return JsonResponse({"detail": detail, "code": code}, status=status)


def bad_request(request, exception=None):
    if is_api_request(request):
        return _json_error(request, 400, _("Bad request."), "bad_request")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if is_api_request(request):
        return _json_error(request, 403, _("You do not have permission to do this."), "permission_denied")
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if is_api_request(request):
        return _json_error(request, 404, _("Not found."), "not_found")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api_request(request):
        return _json_error(request, 500, _("Something went wrong on our side."), "server_error")
    return defaults.server_error(request)


# --- a backing service that does not answer ----------------------------------------------------

UNAVAILABLE_RETRY_AFTER_SECONDS = 5


def backing_service_down(exc: BaseException) -> bool:
    """Whether ``exc`` says Redis or the database cannot be reached right now (not a bug of ours:
    the same request may well work in a few seconds)."""
    from django.db import InterfaceError, OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return isinstance(exc, RedisConnectionError | RedisTimeoutError | OperationalError | InterfaceError)


def unavailable_response(request) -> JsonResponse:
    response = _json_error(
        request, 503, _("The service is briefly unavailable; try again in a few seconds."), "service_unavailable"
    )
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_SECONDS)
    return response


class BackingServiceDownMiddleware:
    """Redis or the database down is a 503 with ``Retry-After`` on the API (OpenAI's error shape on
    ``/v1/``), not a 500: clients and SDKs retry a 503, and an operator's alert can tell an outage
    from a bug. Django calls ``process_exception`` for sync and async views alike."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        return self.get_response(request)  # a coroutine when the chain is async

    def process_exception(self, request, exception):
        if is_api_request(request) and backing_service_down(exception):
            logger.warning("backing service unavailable: %s", exception.__class__.__name__)
            return unavailable_response(request)
        return None
