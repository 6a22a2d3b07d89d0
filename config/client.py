"""The reference client at ``/``: one static page that talks to the public REST API like any SPA.

The page carries no data (no tokens, no user details): everything it shows it fetches with the
bearer token it obtained itself. Its only server-side part is the per-request CSP nonce.
"""

import secrets

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

# Strict CSP: only the page's own nonce-bearing script runs (no inline handlers, no injected
# scripts), it may only talk to this origin, and it cannot be framed (clickjacking).
CSP_TEMPLATE = (
    "default-src 'self'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; connect-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@require_safe
def client_page(request):
    nonce = secrets.token_urlsafe(16)
    # Rendered without the request context on purpose: nothing about the visitor ends up in the page.
    response = HttpResponse(render_to_string("client/index.html", {"csp_nonce": nonce}))
    response["Content-Security-Policy"] = CSP_TEMPLATE.format(nonce=nonce)
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"  # a fresh nonce every time; never replay a cached page
    return response
