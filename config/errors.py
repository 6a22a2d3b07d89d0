"""Errors outside DRF's views (unknown paths, crashes, oversize bodies) answer JSON on the API.

DRF's exception handler only sees exceptions raised inside its views; Django renders the rest as
HTML pages. Under ``/api/`` (and allauth's headless ``/_allauth/``) a client always gets
``{"detail", "code"}``; elsewhere (the admin, the share page, the web client) the HTML pages stay.
"""

from django.http import JsonResponse
from django.views import defaults

_API_PREFIXES = ("/api/", "/_allauth/")


def _is_api(request) -> bool:
    return request.path.startswith(_API_PREFIXES)


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        detail = "You do not have permission to do this."
        return JsonResponse({"detail": detail, "code": "permission_denied"}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": "Something went wrong on our side.", "code": "server_error"}, status=500)
    return defaults.server_error(request)
