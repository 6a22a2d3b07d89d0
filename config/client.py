"""The web client at ``/`` and ``/c/<id>``: one page that loads the bundled SPA (built from
``frontend/`` by ``make install`` into static files) and talks to the public REST API like any SPA.

The page carries no data (no tokens, no user details): everything it shows it fetches with the
bearer token it obtained itself. Its only server-side parts are the per-request CSP nonce and
the bundle's content hash in its address (a new build is never hidden by a cached old one).
"""

import hashlib
import secrets
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import translation
from django.views.decorators.http import require_safe

CLIENT_BUILD_DIR = Path(settings.BASE_DIR) / "frontend" / "dist" / "client"
SCRIPT = "app.js"
STYLE = "app-style.css"

# Strict CSP: only scripts bearing the page's nonce run (no inline handlers, no injected scripts),
# styles only from this origin, it may only talk to this origin, and it cannot be framed. Images
# also from blob: URLs, which only this page can make: thumbnails of the user's own files (a file
# chosen, or fetched with the bearer token, which an <img src> cannot send).
CSP_TEMPLATE = (
    "default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data: blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class ClientNotBuilt(RuntimeError):
    pass


@cache
def _versioned(name: str, mtime_ns: int) -> str:
    digest = hashlib.sha256((CLIENT_BUILD_DIR / name).read_bytes()).hexdigest()[:12]
    return f"{static(f'client/{name}')}?v={digest}"


def asset_url(name: str) -> str:
    path = CLIENT_BUILD_DIR / name
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise ClientNotBuilt(f"{path} is missing: build the web client with `make install`.") from exc
    return _versioned(name, mtime)


@require_safe
def client_page(request, conversation_id=None, key=None):
    # The conversation id in /c/<id> and a reset key are read by the client itself, never rendered.
    nonce = secrets.token_urlsafe(16)
    # Rendered without the request context on purpose: nothing about the visitor ends up in the page.
    context = {
        "csp_nonce": nonce,
        "script_url": asset_url(SCRIPT),
        "style_url": asset_url(STYLE),
        "max_message_chars": settings.CHAT["MAX_MESSAGE_CHARS"],
        "custom_instructions_max_chars": settings.CUSTOM_INSTRUCTIONS_MAX_CHARS,
        # The request's language (Accept-Language; the page is fetched without credentials): the
        # client then follows the user's saved one.
        "LANGUAGE_CODE": translation.get_language(),
        "site_name": settings.SITE_NAME,
    }
    response = HttpResponse(render_to_string("client/index.html", context))
    response["Content-Security-Policy"] = CSP_TEMPLATE.format(nonce=nonce)
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"  # a fresh nonce every time; never replay a cached page
    return response
