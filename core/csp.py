"""A Content-Security-Policy on every HTML page that does not set its own.

The web client (``config/client.py``) and the share page (``sharing/views.py``) set strict
policies of their own, which are left alone. Every other HTML page (the admin, Swagger UI at
``/api/docs/``, Redoc at ``/api/redoc/``, error pages) gets :data:`BASE`: its own origin only, no
plugins, not framed, no ``<base>`` elsewhere, forms posted here only; scripts from this origin, and
an inline script only when it carries the request's nonce (``{{ request.csp_nonce }}``, made when
a template first asks for it). Styles may be inline: the admin's templates and Swagger UI set
``style`` attributes, which no nonce can cover.

A view that needs more says so with :func:`allow` (on the request) or :func:`allowing` (a view
decorator): the admin allows ``'unsafe-eval'`` (unfold's Alpine.js evaluates its ``x-`` attributes
with ``Function``; console/site.py), Redoc ``blob:`` workers (its search runs in one).
"""

import secrets
from functools import wraps

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.utils.functional import SimpleLazyObject, empty

HEADER = "Content-Security-Policy"

BASE: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'", "'unsafe-inline'"),
    "img-src": ("'self'", "data:"),
    "font-src": ("'self'", "data:"),
    "connect-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}


def allow(request, directive: str, *sources: str) -> None:
    """Add ``sources`` to ``directive`` in this request's policy."""
    extra = request.__dict__.setdefault("_csp_extra", {})
    extra[directive] = (*extra.get(directive, ()), *sources)


def allowing(directive: str, *sources: str):
    """A view decorator: :func:`allow` for every request of that view."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            allow(request, directive, *sources)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def policy(request) -> str:
    directives = {name: list(sources) for name, sources in BASE.items()}
    for name, sources in getattr(request, "_csp_extra", {}).items():
        directives.setdefault(name, list(BASE["default-src"]))
        directives[name] += [source for source in sources if source not in directives[name]]
    nonce = getattr(request, "csp_nonce", None)
    # A template used it when the lazy value was made (Django's own CSP support asks the same).
    if isinstance(nonce, SimpleLazyObject) and getattr(nonce, "_wrapped", empty) is not empty:
        directives["script-src"].append(f"'nonce-{nonce}'")
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    """Gives each request a lazy ``csp_nonce`` and each HTML response without a policy of its own
    the request's policy."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    @staticmethod
    def _finish(request, response):
        if HEADER in response or not response.get("Content-Type", "").startswith("text/html"):
            return response
        if settings.DEBUG and response.status_code >= 500:
            return response  # Django's debug page: its inline script shows the frames' variables
        response[HEADER] = policy(request)
        return response

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        request.csp_nonce = SimpleLazyObject(lambda: secrets.token_urlsafe(16))
        return self._finish(request, self.get_response(request))

    async def __acall__(self, request):
        request.csp_nonce = SimpleLazyObject(lambda: secrets.token_urlsafe(16))
        return self._finish(request, await self.get_response(request))
