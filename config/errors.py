"""Errors outside DRF's views (unknown paths, crashes, oversize bodies) answer JSON on the API.

DRF's exception handler only sees exceptions raised inside its views; Django renders the rest as
HTML pages. Under ``/api/`` (and allauth's headless ``/_allauth/``) a client always gets
``{"detail", "code"}``, under the OpenAI-compatible ``/v1/`` OpenAI's ``{"error": {...}}``;
elsewhere (the admin, the share page, the web client) the HTML pages stay.
"""

from django.http import JsonResponse
from django.views import defaults

_API_PREFIXES = ("/api/", "/_allauth/", "/v1/")


def _is_api(request) -> bool:
    return request.path.startswith(_API_PREFIXES)


def _json_error(request, status: int, detail: str, code: str) -> JsonResponse:
    if request.path.startswith("/v1/"):
        error_type = "server_error" if status >= 500 else "invalid_request_error"
        body = {"error": {"message": detail, "type": error_type, "param": None, "code": code}}
        return JsonResponse(body, status=status)
    return JsonResponse({"detail": detail, "code": code}, status=status)


def bad_request(request, exception=None):
    if _is_api(request):
        return _json_error(request, 400, "Bad request.", "bad_request")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        return _json_error(request, 403, "You do not have permission to do this.", "permission_denied")
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if _is_api(request):
        return _json_error(request, 404, "Not found.", "not_found")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return _json_error(request, 500, "Something went wrong on our side.", "server_error")
    return defaults.server_error(request)
