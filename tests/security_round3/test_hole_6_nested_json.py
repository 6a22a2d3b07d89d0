"""JSON nested ~1,000 levels deep used to answer 500 on every JSON endpoint; now a 400 naming it."""

import json

import pytest

from core.json_limits import MAX_JSON_DEPTH, json_depth

DEEP = ("[" * 1000 + "]" * 1000).encode()


def test_depth_ignores_brackets_inside_strings():
    assert json_depth(b'{"a": [1, {"b": "[[[{{{\\"]]]"}]}') == 3
    assert json_depth(json.dumps({"text": "[" * 500}).encode()) == 1
    assert json_depth(DEEP) == 1000


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/auth/login",
        "/api/v1/auth/register",
        "/api/v1/auth/refresh",
        "/_allauth/app/v1/auth/login",
        "/api/v1/conversations",
        "/api/v1/todos",
    ],
)
def test_deeply_nested_json_is_a_400_everywhere(client, path):
    response = client.post(path, DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"JSON is nested more than {MAX_JSON_DEPTH} levels deep.",
        "code": "parse_error",
    }


@pytest.mark.django_db
def test_reasonable_json_still_reaches_the_view(client):
    nested = {"email": "a@example.com", "password": "x", "extra": [[[[{"k": [1]}]]]]}
    response = client.post("/api/v1/auth/login", nested, content_type="application/json")
    assert response.status_code in (400, 401)
    assert response.json().get("code") != "parse_error"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/v1/auth/login", "Application/JSON"),  # media types are case-insensitive
        ("/api/v1/auth/login", "APPLICATION/JSON; charset=UTF-8"),
        ("/_allauth/app/v1/auth/login", "text/plain"),  # allauth parses any body as JSON
        ("/_allauth/app/v1/auth/login", ""),
        ("/api/v1/conversations", "application/vnd.api+JSON"),
    ],
)
def test_deep_json_is_a_400_whatever_the_content_type_says(client, path, content_type):
    response = client.post(path, DEEP, content_type=content_type)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.django_db
def test_form_bodies_are_not_read_as_json(client):
    # The admin's and Swagger's forms: a field holding brackets is no JSON nesting.
    response = client.post("/api/v1/auth/login", {"username": "[" * 200, "password": "x"})
    assert response.json().get("code") != "parse_error"
