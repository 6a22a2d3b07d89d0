"""The web client's page at / and /c/<id>: served with a strict per-request CSP, carrying no data,
loading only its own bundle (built from frontend/ with libraries pinned by package-lock.json),
small enough to load fast, and calling only API paths that exist. Its behaviour in a real
browser is covered by test_web_client.py."""

import gzip
import json
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve

from config.client import CLIENT_BUILD_DIR

FRONTEND = Path(settings.BASE_DIR) / "frontend"
# Every module of the client: plain modules (*.js) and components (*.jsx), in sub-folders too.
SOURCES = sorted(path for path in (FRONTEND / "src").rglob("*") if path.suffix in {".js", ".jsx"})
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
NONCE_ATTR = re.compile(r'\bnonce="([^"]+)"')
CSP_NONCE = re.compile(r"script-src 'nonce-([^']+)'")
# Literal API paths in the sources, e.g. "/api/v1/auth/login" or `/api/v1/conversations/${id}/stream`.
API_PATH = re.compile(r"/api/v1/(?:[A-Za-z0-9_\-/.]|\$\{[^}]*\})*")
PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
SCRIPT_BUDGET_GZIPPED = 200 * 1024  # the first-load budget
# Where a string becomes markup or code (Preact's dangerouslySetInnerHTML included).
HTML_SINK = re.compile(
    r"\.(?:innerHTML|outerHTML)\s*=|insertAdjacentHTML|dangerouslySetInnerHTML|document\.write|\beval\(|new Function"
)


def _page(client, path="/"):
    response = client.get(path)
    assert response.status_code == 200
    return response, response.content.decode()


def test_page_is_html_with_strict_headers(client):
    response, html = _page(client)
    assert response["Content-Type"].startswith("text/html")
    assert html.lstrip().lower().startswith("<!doctype html>")
    nonce = CSP_NONCE.search(response["Content-Security-Policy"]).group(1)
    assert response["Content-Security-Policy"] == (
        f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data: blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]


def test_each_conversation_has_its_own_address_served_by_the_same_page(client):
    _, home = _page(client)
    _, chat = _page(client, f"/c/{uuid.uuid4()}")
    assert NONCE_ATTR.sub("", chat) == NONCE_ATTR.sub("", home)
    assert client.get("/c/not-a-uuid").status_code == 404
    assert client.get(f"/c/{uuid.uuid4()}/extra").status_code == 404


def test_every_script_carries_this_responses_nonce_and_it_changes_per_request(client):
    nonces = []
    for _ in range(2):
        response, html = _page(client)
        csp_nonce = CSP_NONCE.search(response["Content-Security-Policy"]).group(1)
        tags = SCRIPT_TAG.findall(html)
        assert len(tags) == 2, "the theme line and the bundle; nothing else"
        for tag in tags:
            assert NONCE_ATTR.search(tag).group(1) == csp_nonce
        sources = [re.search(r'src="([^"]+)"', tag) for tag in tags]
        assert [s.group(1).split("?")[0] for s in sources if s] == ["/static/client/app.js"]
        assert len(csp_nonce) >= 16
        nonces.append(csp_nonce)
    assert nonces[0] != nonces[1]


def test_assets_are_addressed_by_content_and_served(client):
    _, html = _page(client)
    urls = re.findall(r'(?:src|href)="(/static/client/[^"]+)"', html)
    assert len(urls) == 2
    for url in urls:
        path, _, version = url.partition("?v=")
        assert re.fullmatch(r"[0-9a-f]{12}", version)
        assert (CLIENT_BUILD_DIR / Path(path).name).is_file()


def test_first_load_stays_under_the_script_budget():
    bundle = (CLIENT_BUILD_DIR / "app.js").read_bytes()
    assert len(gzip.compress(bundle, compresslevel=6)) < SCRIPT_BUDGET_GZIPPED


def test_front_end_libraries_come_from_npm_at_pinned_versions():
    package = json.loads((FRONTEND / "package.json").read_text())
    lock = json.loads((FRONTEND / "package-lock.json").read_text())
    for name, version in {**package["dependencies"], **package["devDependencies"]}.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    # No library source is kept in the repository: only our own modules are under src/.
    imports = {m for src in SOURCES for m in re.findall(r'from "([^".][^"]*)"', src.read_text())}
    # A package's name is its first path segment, or its first two when scoped (@preact/signals).
    names = {"/".join(i.split("/")[: 2 if i.startswith("@") else 1]) for i in imports}
    assert names and names <= set(package["dependencies"])


def test_page_embeds_no_token_secret_or_user_data(client, user, auth_client):
    client.force_login(user)  # even a signed-in admin session must not leak into the page
    _, html = _page(client)
    bearer = auth_client(user).get("/")
    assert bearer.status_code == 200
    for page in (html, bearer.content.decode()):
        page_without_nonce = NONCE_ATTR.sub("", page)
        page_without_nonce = re.sub(r"\?v=[0-9a-f]+", "", page_without_nonce)
        assert settings.SECRET_KEY not in page
        assert settings.SIMPLE_JWT["SIGNING_KEY"] not in page
        assert "eyJ" not in page, "no JWT (base64 of '{\"') may be embedded"
        assert user.email not in page
        assert "csrfmiddlewaretoken" not in page
        opaque = [
            run
            for run in re.findall(r"[A-Za-z0-9_\-]{24,}", page_without_nonce)
            if re.search(r"\d", run) and re.search(r"[A-Za-z]", run)
        ]
        assert opaque == []


def test_client_uses_only_api_paths_that_exist():
    templates = {path.split("?")[0].rstrip("/") for source in SOURCES for path in API_PATH.findall(source.read_text())}
    paths = {PLACEHOLDER.sub(str(uuid.uuid4()), path) for path in templates}
    assert {
        "/api/v1/auth/login",
        "/api/v1/auth/register",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/models",
        "/api/v1/conversations",
        "/api/v1/shares",
        "/api/v1/collector/items",
        "/api/v1/user/settings/theme",
    } <= paths
    suffixes = {path.rsplit("/", 1)[-1] for path in paths}
    assert {"messages", "stream", "stop", "feedback", "regenerate", "branch", "clone", "context-items"} <= suffixes
    for template in sorted(templates):
        # An id is a UUID (conversations, shares, messages) or a number (keys, items, devices).
        for id_value in (str(uuid.uuid4()), "7"):
            try:
                match = resolve(PLACEHOLDER.sub(id_value, template))
                break
            except Resolver404:
                continue
        else:  # pragma: no cover - the assertion message is the point
            pytest.fail(f"the client calls {template}, which the URLconf does not serve")
        assert match.url_name not in ("client", "client-conversation"), template


def test_only_sanitised_markdown_becomes_markup():
    # Text from users and models goes in as Text nodes; the one HTML sink is the Markdown
    # renderer, which sets only what DOMPurify returned (or highlight.js's escaped output).
    sinks = {str(src.relative_to(FRONTEND / "src")): re.findall(HTML_SINK, src.read_text()) for src in SOURCES}
    assert {name: found for name, found in sinks.items() if found} == {
        "markdown.js": [".innerHTML =", ".innerHTML ="],
        "share_page.js": [".innerHTML ="],
    }
    markdown = (FRONTEND / "src" / "markdown.js").read_text()
    assert "target.innerHTML = html" in markdown and "DOMPurify.sanitize(" in markdown
    assert "code.innerHTML = result.value" in markdown
    # The share page highlights its own (server-sanitised) code blocks: highlight.js's escaped output
    # of the block's text, never markup from the page.
    share_page = (FRONTEND / "src" / "share_page.js").read_text()
    assert "code.innerHTML = hljs.highlight(code.textContent," in share_page


def test_page_has_no_inline_handlers_or_foreign_origins(client):
    _, html = _page(client)
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html, re.IGNORECASE)
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)


def test_page_only_answers_safe_methods(client):
    assert client.head("/").status_code == 200
    assert client.post("/").status_code == 405


def test_share_pages_still_win_over_the_client():
    assert resolve("/share/abc/").url_name == "share-page"
    assert resolve("/").url_name == "client"
