"""CORS for ``/v1`` alone (``CHAT_API_CORS_ORIGINS``, off by default): a page on another origin
may call the OpenAI-compatible API with a key its user typed in, without opening the app's own API
(``/api/v1``, ``CORS_ALLOWED_ORIGINS``) to that origin.

django-cors-headers asks its ``check_request_enabled`` signal about any request its own settings
do not allow; this receiver says yes for ``/v1/`` from a listed origin (``*``: any). Keys come in
the Authorization header, never a cookie, so credentials stay off (``CORS_ALLOW_CREDENTIALS``).
"""

from django.conf import settings


def api_origin_allowed(sender, request, **kwargs) -> bool:
    if not request.path_info.startswith("/v1/"):
        return False
    origins = getattr(settings, "CHAT_API_CORS_ORIGINS", [])
    return "*" in origins or request.headers.get("origin") in origins
