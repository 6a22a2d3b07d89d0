"""Swagger UI's Authorize dialog (/api/docs/) tells the truth once access tokens expire.

The login answers Swagger's OAuth2 password form with the RFC 6749 5.1 fields, and the page loads
api_docs_auth.js (frontend/src/, bundled with the web client into /static/client/), which renews
the dialog's access token with its refresh token, or logs Swagger UI out when the session cannot be
renewed.

The browser tests drive Debian's chromium (Playwright, ``executable_path``; never a downloaded
browser) against a real server process whose access tokens live 5 seconds, and use the real
dialog and the real "Try it out" of GET /api/v1/user.
"""

import base64
import json
import os
import re
import time
import uuid
from urllib.parse import urlencode

import httpx
import pytest

from testsupport.servers import ServerProcess, manage, own_database, server_env

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/user"
CHROMIUM = "/usr/bin/chromium"
ACCESS_SECONDS = 5
PASSWORD = "Docs-test-42"


# --- the login answer and the page --------------------------------------------------------------


@pytest.mark.django_db
def test_swagger_form_login_answers_the_oauth2_token_fields(api_client, user, password):
    form = urlencode({"grant_type": "password", "username": user.email, "password": password})
    r = api_client.generic("POST", LOGIN, form, content_type="application/x-www-form-urlencoded")

    assert r.status_code == 200, r.content
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["access_token"] == body["access"]
    assert body["refresh_token"] == body["refresh"]
    # What the renewal sends back: the refresh token of the form login works.
    refreshed = api_client.post(REFRESH, {"refresh": body["refresh_token"]}, format="json")
    assert refreshed.status_code == 200, refreshed.content
    assert set(refreshed.json()) == {"access", "refresh", "token_type", "expires_in"}


@pytest.mark.django_db
def test_json_login_keeps_its_shape(api_client, user, password):
    body = api_client.post(LOGIN, {"email": user.email, "password": password}, format="json").json()

    assert set(body) == {"access", "refresh", "token_type", "expires_in", "device", "user"}


@pytest.mark.django_db
def test_openapi_documents_the_token_fields(api_client):
    schemas = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["components"]["schemas"]

    login = schemas["LoginResponse"]
    assert {"token_type", "expires_in"} <= set(login["required"])
    assert {"access_token", "refresh_token"} <= set(login["properties"])
    assert not {"access_token", "refresh_token"} & set(login["required"])  # only for the form
    assert {"token_type", "expires_in"} <= set(schemas["TokenPair"]["required"])


@pytest.mark.django_db
def test_docs_page_loads_the_renewal_between_swagger_ui_and_its_start_up(client):
    response = client.get("/api/docs/")
    page = response.content.decode()

    scripts = re.findall(r"<script(?: src=\"([^\"]+)\")?[^>]*>", page)
    assert scripts[:3] == [
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "/static/client/api_docs_auth.js",
    ]
    assert scripts[3] == ""  # then drf-spectacular's inline start-up, which calls SwaggerUIBundle
    # ...and runs under the page's Content-Security-Policy only by the request's nonce (config/csp.py).
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">' in page
    assert 'data-refresh-url="/api/v1/auth/refresh"' in page
    assert "SwaggerUIBundle({" in page.split("api_docs_auth.js", 1)[1]


# --- in a browser -------------------------------------------------------------------------------

_needs_chromium = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK), reason="needs Debian's chromium (apt-get install -y chromium; .ci/run does)"
)


def browser_test(test):
    return pytest.mark.slow(_needs_chromium(test))


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("api-docs")
    with own_database(tmp_path, "apidocs") as database_url:
        env = server_env(
            database_url,
            tmp_path,
            JWT_ACCESS_SECONDS=str(ACCESS_SECONDS),
            THROTTLE_REGISTER_IP="1000/hour",
            THROTTLE_LOGIN_IP="1000/min",
            # A rotated refresh token presented again is theft at once (no grace for a race),
            # so a tab that sent one would sign the session out.
            JWT_REFRESH_REUSE_SECONDS="0",
        )
        manage(env, "migrate", "--noinput")
        server = ServerProcess(env).start()
        try:
            yield server.base
        finally:
            server.stop()


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def email(docs_server):
    address = f"docs-{uuid.uuid4().hex[:8]}@example.com"
    r = httpx.post(f"{docs_server}/api/v1/auth/register", json={"email": address, "password": PASSWORD})
    assert r.status_code == 202, r.text
    return address


class Docs:
    """The Swagger UI page, through its own controls, with the API calls it made."""

    def __init__(self, page, base):
        self.page, self.base, self.calls = page, base, []
        page.on("response", self._record)
        # What the page's Content-Security-Policy refused (chromium reports each on the console).
        self.csp_violations = []
        page.on("console", lambda m: "Content Security Policy" in m.text and self.csp_violations.append(m.text))

    def _record(self, response):
        if "/api/v1/" in response.url:
            request = response.request
            path = response.url.removeprefix(self.base).split("?")[0]
            self.calls.append((request.method, path, response.status, request.headers.get("authorization")))

    def open(self):
        self.page.goto(f"{self.base}/api/docs/")
        self.page.wait_for_selector("#operations-user-user_retrieve")
        return self

    def dialog(self):
        self.page.locator(".auth-wrapper button.authorize").click()
        return self.page.locator(".modal-ux")

    def close_dialog(self):
        self.page.locator(".modal-ux button.btn-done").last.click()

    def sign_in(self, email, password=PASSWORD):
        dialog = self.dialog()
        box = dialog.locator(".auth-container", has_text="passwordLogin")
        box.locator("#oauth_username").fill(email)
        box.locator("#oauth_password").fill(password)
        box.locator("button.authorize").click()
        box.locator("button", has_text="Logout").wait_for()
        self.close_dialog()

    def paste_token(self, token):
        dialog = self.dialog()
        box = dialog.locator(".auth-container", has_text="bearerAuth")
        box.locator("#auth-bearer-value").fill(token)
        box.locator("button.authorize").click()
        box.locator("button", has_text="Logout").wait_for()
        self.close_dialog()

    def authorized(self) -> bool:
        classes = self.page.locator(".auth-wrapper button.authorize").get_attribute("class").split()
        assert ("locked" in classes) != ("unlocked" in classes)
        return "locked" in classes

    def get_user(self) -> str:
        """Try it out: GET /api/v1/user; the status the page shows."""
        op = self.page.locator("#operations-user-user_retrieve")
        if not op.locator("button.execute").count():
            op.locator(".opblock-summary").click()
            op.locator("button.try-out__btn").click()
        status = op.locator(".live-responses-table tbody .response-col_status")
        if op.locator("button.btn-clear").count():  # the previous answer goes first
            op.locator("button.btn-clear").click()
            status.wait_for(state="detached")
        op.locator("button.execute").click()
        # Shown once the request is done, renewal and second try included.
        return status.inner_text().strip().split()[0]

    def stored(self) -> dict:
        return json.loads(self.page.evaluate("localStorage.getItem('authorized')") or "{}")


def _expiry(token: str) -> float:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]


def _wait_past(token: str) -> None:
    # The server has no leeway: a second after exp the token is refused.
    time.sleep(max(0.0, _expiry(token) + 1 - time.time()))


@pytest.fixture
def docs(chromium, docs_server):
    context = chromium.new_context()
    try:
        yield Docs(context.new_page(), docs_server)
    finally:
        context.close()


@browser_test
def test_expired_access_token_is_renewed_before_the_request(docs, email):
    docs.open().sign_in(email)
    assert docs.authorized()
    assert docs.get_user() == "200"
    first = docs.stored()["passwordLogin"]["token"]
    assert "password" not in docs.stored()["passwordLogin"]  # Swagger UI would keep it otherwise

    _wait_past(first["access_token"])
    assert docs.authorized()  # the refresh token is still good: the dialog is right to say so
    docs.calls.clear()
    assert docs.get_user() == "200"

    assert [(m, p, s) for m, p, s, _ in docs.calls] == [("POST", REFRESH, 200), ("GET", ME, 200)]
    renewed = docs.stored()["passwordLogin"]["token"]
    assert docs.calls[-1][3] == f"Bearer {renewed['access_token']}"
    assert renewed["access_token"] != first["access_token"]
    assert renewed["refresh_token"] not in (first["refresh_token"], None)  # rotated, and kept
    assert docs.authorized()
    assert docs.csp_violations == []  # all of it under the page's CSP


@browser_test
def test_a_second_tab_takes_the_pair_the_first_renewed_instead_of_reusing_its_refresh_token(docs, email):
    docs.open().sign_in(email)
    other = Docs(docs.page.context.new_page(), docs.base).open()  # persistAuthorization: signed in
    assert other.authorized()
    _wait_past(docs.stored()["passwordLogin"]["token"]["access_token"])

    assert docs.get_user() == "200"  # renews: the refresh token both tabs held is rotated
    assert other.get_user() == "200"

    assert [(m, p, s) for m, p, s, _ in other.calls] == [("GET", ME, 200)]  # no refresh of its own
    assert other.calls[0][3] == docs.calls[-1][3]
    assert docs.get_user() == other.get_user() == "200"  # and the session is still signed in


@browser_test
def test_token_the_server_refuses_is_renewed_and_the_request_sent_again(docs, email):
    # The browser's clock runs an hour late: it believes the token is still good, the server
    # answers 401 token_not_valid; the page renews the token and sends the request again once.
    docs.page.clock.install()
    docs.open().sign_in(email)
    token = docs.stored()["passwordLogin"]["token"]
    docs.page.clock.set_system_time(time.time() - 3600)
    _wait_past(token["access_token"])
    docs.calls.clear()

    assert docs.get_user() == "200"

    assert [(m, p, s) for m, p, s, _ in docs.calls] == [("GET", ME, 401), ("POST", REFRESH, 200), ("GET", ME, 200)]
    assert docs.calls[0][3] == f"Bearer {token['access_token']}"
    assert docs.calls[2][3] == f"Bearer {docs.stored()['passwordLogin']['token']['access_token']}"
    assert docs.authorized()


@browser_test
@pytest.mark.parametrize("access_expired", [False, True], ids=["access-still-valid", "access-expired"])
def test_signed_out_session_logs_swagger_out(docs, email, access_expired):
    docs.open().sign_in(email)
    token = docs.stored()["passwordLogin"]["token"]
    # Signed out everywhere from another client: the "api-docs" session is revoked too.
    other = httpx.post(f"{docs.base}{LOGIN}", json={"email": email, "password": PASSWORD}).json()
    out = httpx.post(
        f"{docs.base}/api/v1/auth/logout", json={"all": True}, headers={"Authorization": f"Bearer {other['access']}"}
    )
    assert out.status_code == 204, out.text
    if access_expired:
        _wait_past(token["access_token"])
    else:  # the page renews a second ahead of the expiry
        assert time.time() < _expiry(token["access_token"]) - 2, "the test was too slow to use a live access token"
    docs.calls.clear()

    assert docs.get_user() == "401"

    refreshes = [c for c in docs.calls if c[1] == REFRESH]
    assert [s for _, _, s, _ in refreshes] == ([401] if access_expired else [])
    assert not docs.authorized()
    assert "passwordLogin" not in docs.stored()
    dialog = docs.dialog()
    box = dialog.locator(".auth-container", has_text="passwordLogin")
    assert box.locator("#oauth_username").is_visible()  # the sign-in form again
    assert "Authorize again" in box.inner_text()


@browser_test
def test_pasted_token_is_logged_out_when_it_expires(docs, email):
    access = httpx.post(f"{docs.base}{LOGIN}", json={"email": email, "password": PASSWORD}).json()["access"]
    docs.open().paste_token(access)
    assert docs.authorized()
    assert docs.get_user() == "200"
    docs.calls.clear()

    _wait_past(access)
    docs.page.wait_for_function("() => document.querySelector('.auth-wrapper button.authorize.unlocked')")

    assert not docs.authorized()
    assert docs.calls == []  # without a request: the page noticed the expiry by itself
    assert "bearerAuth" not in docs.stored()
    box = docs.dialog().locator(".auth-container", has_text="bearerAuth")
    assert "The token expired" in box.inner_text()
