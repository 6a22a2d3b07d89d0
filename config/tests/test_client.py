"""The reference client page at /: served with a strict per-request CSP, carrying no data, and
talking only to API paths that exist. (Its behaviour in a browser is checked by hand; CI has none.)"""

import re
import uuid

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
NONCE_ATTR = re.compile(r'\bnonce="([^"]+)"')
CSP_NONCE = re.compile(r"script-src 'nonce-([^']+)'")
# Literal API paths in the script, e.g. "/api/v1/auth/login" or `/api/v1/conversations/${id}/stream`.
API_PATH = re.compile(r"/api/v1/(?:[A-Za-z0-9_\-/.]|\$\{[^}]*\})*")
PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


def _page(client):
    response = client.get("/")
    assert response.status_code == 200
    return response, response.content.decode()


def test_page_is_html_with_strict_headers(client):
    response, html = _page(client)
    assert response["Content-Type"].startswith("text/html")
    assert html.lstrip().lower().startswith("<!doctype html>")
    nonce = CSP_NONCE.search(response["Content-Security-Policy"]).group(1)
    assert response["Content-Security-Policy"] == (
        f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; connect-src 'self'; "
        "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]


def test_every_script_tag_carries_this_responses_nonce_and_it_changes_per_request(client):
    first, first_html = _page(client)
    second, second_html = _page(client)
    nonces = []
    for response, html in ((first, first_html), (second, second_html)):
        csp_nonce = CSP_NONCE.search(response["Content-Security-Policy"]).group(1)
        tags = SCRIPT_TAG.findall(html)
        assert len(tags) == 1, "one inline script, nothing loaded from elsewhere"
        assert "src=" not in tags[0]
        assert NONCE_ATTR.search(tags[0]).group(1) == csp_nonce
        assert len(csp_nonce) >= 16
        nonces.append(csp_nonce)
    assert nonces[0] != nonces[1]


def test_page_embeds_no_token_secret_or_user_data(client, user, auth_client):
    client.force_login(user)  # even a signed-in admin session must not leak into the page
    _, html = _page(client)
    bearer = auth_client(user).get("/")
    assert bearer.status_code == 200
    for page in (html, bearer.content.decode()):
        page_without_nonce = NONCE_ATTR.sub("", page)
        assert settings.SECRET_KEY not in page
        assert settings.SIMPLE_JWT["SIGNING_KEY"] not in page
        assert "eyJ" not in page, "no JWT (base64 of '{\"') may be embedded"
        assert user.email not in page
        assert "csrfmiddlewaretoken" not in page
        # Nothing that looks like a key or token: no long opaque run mixing letters and digits.
        opaque = [
            run
            for run in re.findall(r"[A-Za-z0-9_\-]{24,}", page_without_nonce)
            if re.search(r"\d", run) and re.search(r"[A-Za-z]", run)
        ]
        assert opaque == []


def test_page_uses_only_api_paths_that_exist(client):
    _, html = _page(client)
    paths = {PLACEHOLDER.sub(str(uuid.uuid4()), path) for path in API_PATH.findall(html)}
    assert {
        "/api/v1/auth/login",
        "/api/v1/auth/register",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/models",
        "/api/v1/conversations",
    } <= paths
    suffixes = {path.rsplit("/", 1)[-1] for path in paths}
    assert {"messages", "stream", "stop"} <= suffixes
    for path in sorted(paths):
        try:
            match = resolve(path)
        except Resolver404:  # pragma: no cover - the assertion message is the point
            pytest.fail(f"the client calls {path}, which the URLconf does not serve")
        assert match.url_name != "client", path


def test_page_never_renders_text_as_markup(client):
    _, html = _page(client)
    assert not re.search(r"innerHTML\s*=", html)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in html, sink
    # Inline event handlers would be blocked by the CSP, so the page must not rely on any.
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html, re.IGNORECASE)
    # Nothing is loaded from another origin.
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)


def test_page_only_answers_safe_methods(client):
    assert client.head("/").status_code == 200
    assert client.post("/").status_code == 405


def test_share_pages_still_win_over_the_client():
    assert resolve("/share/abc/").url_name == "share-page"
    assert resolve("/").url_name == "client"
