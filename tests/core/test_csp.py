"""Issue 18, hole 10: /admin/ and /api/docs/ sent no Content-Security-Policy. Every HTML page now
has one (core/csp.py): the admin's allows unfold's Alpine.js its eval, Swagger UI's start-up runs
by the request's nonce, Redoc loads nothing from another origin; the pages with policies of their
own (the web client, the share page) keep them. That the pages work under them is shown in a
browser by tests/console/test_admin_browser.py and tests/accounts/test_api_docs_auth.py."""

import re

import pytest
from django.test import Client

from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

ALWAYS = ("default-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'", "form-action 'self'")


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


@pytest.fixture
def admin_web(db) -> Client:
    client = Client()
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


ADMIN_PAGES = [
    "/admin/",
    "/admin/accounts/user/",
    "/admin/accounts/user/add/",
    "/admin/usage/",
    "/admin/password_change/",
]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_every_admin_page_has_a_policy(admin_web, path):
    response = admin_web.get(path)

    assert response.status_code == 200
    assert all(part in response["Content-Security-Policy"] for part in ALWAYS)
    # unfold's Alpine.js needs its eval; no inline script runs.
    assert directives(response)["script-src"] == ["'self'", "'unsafe-eval'"]


def test_the_admin_sign_in_page_and_a_refusal_have_one_too(client):
    assert all(part in client.get("/admin/login/")["Content-Security-Policy"] for part in ALWAYS)
    staff = UserFactory(email="staff@example.com", is_staff=True)
    client.force_login(staff)
    refused = client.get("/admin/accounts/user/add/")
    assert refused.status_code == 403
    assert all(part in refused["Content-Security-Policy"] for part in ALWAYS)


def test_swagger_ui_runs_its_start_up_by_a_fresh_nonce(client):
    first, second = client.get("/api/docs/"), client.get("/api/docs/")

    script_src = directives(first)["script-src"]
    assert all(part in first["Content-Security-Policy"] for part in ALWAYS)
    assert script_src[0] == "'self'" and len(script_src) == 2 and "'unsafe-inline'" not in script_src
    nonce = re.fullmatch(r"'nonce-([\w-]+)'", script_src[1]).group(1)
    assert f'<script nonce="{nonce}">' in first.content.decode()
    assert directives(second)["script-src"] != script_src


def test_redoc_loads_nothing_from_another_origin(client):
    response = client.get("/api/redoc/")

    assert all(part in response["Content-Security-Policy"] for part in ALWAYS)
    assert directives(response)["worker-src"] == ["'self'", "blob:"]
    assert "fonts.googleapis.com" not in response.content.decode()


def test_pages_with_their_own_policy_keep_it_and_json_gets_none(client):
    share = client.get("/share/not-a-share/")

    assert share["Content-Security-Policy"].startswith("default-src 'none'")
    assert "Content-Security-Policy" not in client.get("/api/v1/user")
