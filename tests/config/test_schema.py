"""The OpenAPI document is part of the product: it must generate cleanly and list every API."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns any drf-spectacular warning or error into a failure.
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi:")


def test_schema_lists_auth_user_and_settings_endpoints(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/devices",
        "/api/v1/auth/devices/{id}",
        "/api/v1/auth/password/change",
        "/api/v1/user",
        "/api/v1/user/settings",
        "/api/v1/user/settings/subscription",
        "/api/v1/user/settings/theme",
        "/api/v1/user/settings/notification",
        "/api/v1/users/{user_id}/settings",
        "/api/v1/users/{user_id}/settings/subscription",
    ):
        assert path in paths, path
    schemes = response.json()["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["passwordLogin"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/login"


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_render(client, url):
    assert client.get(url).status_code == 200


def test_swagger_ui_assets_are_served_locally(client):
    # The embedded profile runs with no network: no CDN links in the docs pages.
    page = client.get("/api/docs/").content.decode()
    assert "cdn.jsdelivr.net" not in page
    assert "/static/drf_spectacular_sidecar/" in page


def _operations(api_client):
    document = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield f"{method.upper()} {path}", operation


def test_every_operation_has_a_summary(api_client):
    missing = [name for name, operation in _operations(api_client) if not operation.get("summary")]
    assert missing == []


def test_every_operation_has_a_summary_of_its_own(api_client):
    # Two operations with one summary is how a declaration shadowed by another shows: an action's
    # unscoped extend_schema overriding its PUT's own (context-items' PUT read "The collector items...").
    summaries = {}
    for name, operation in _operations(api_client):
        summaries.setdefault(operation.get("summary"), []).append(name)
    assert {summary: names for summary, names in summaries.items() if len(names) > 1} == {}


def test_security_schemes_are_alternatives(api_client):
    for name, operation in _operations(api_client):
        for requirement in operation.get("security", []):
            assert len(requirement) <= 1, f"{name} requires {sorted(requirement)} together"


def test_errors_the_framework_answers_are_documented_with_a_body(api_client):
    for name, operation in _operations(api_client):
        responses = operation["responses"]
        security = operation.get("security", [])
        if security and {} not in security:
            assert "401" in responses, name
        if "{" in name:
            assert "404" in responses, name
        if " /api/" in name:  # throttled (/v1 answers 429 for plan limits only, declared where so)
            assert "429" in responses, name
        if "429" in responses:
            assert "Retry-After" in responses["429"]["headers"], name
        for code, response in responses.items():
            if code.startswith("4"):
                assert "content" in response, f"{name} documents {code} without a body"


def test_pagination_parameters_are_bounded(api_client):
    operation = dict(_operations(api_client))["GET /api/v1/todos"]
    page_size = next(p for p in operation["parameters"] if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
