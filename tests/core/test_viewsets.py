"""The resource endpoints are DRF viewsets on routers, at the contract's paths (no trailing slash)."""

import uuid

import pytest
from django.urls import Resolver404, resolve
from rest_framework.viewsets import ViewSetMixin

ID = str(uuid.uuid4())

RESOURCE_PATHS = [
    "/api/v1/conversations",
    f"/api/v1/conversations/{ID}",
    f"/api/v1/conversations/{ID}/messages",
    f"/api/v1/conversations/{ID}/stop",
    f"/api/v1/conversations/{ID}/feedback",
    "/api/v1/users/7/conversations",
    f"/api/v1/users/7/conversations/{ID}",
    "/api/v1/todos",
    "/api/v1/todos/search",
    "/api/v1/todos/12",
    "/api/v1/collector/items",
    "/api/v1/collector/items/12",
    "/api/v1/collector/items/12/file",
    "/api/v1/collector/tags",
    "/api/v1/shares",
    "/api/v1/shares/AbC-_9",
    "/api/v1/shares/AbC-_9/clone",
    "/api/v1/samples",
    f"/api/v1/samples/{ID}",
    f"/api/v1/samples/{ID}/clone",
    "/api/v1/auth/devices",
    f"/api/v1/auth/devices/{ID}",
    "/api/v1/models",
    "/api/v1/prompts",
    "/api/v1/plans",
]


@pytest.mark.parametrize("path", RESOURCE_PATHS)
def test_resource_paths_are_served_by_viewsets(path):
    view_class = resolve(path).func.cls
    assert issubclass(view_class, ViewSetMixin), f"{path} is served by {view_class.__name__}, not a viewset"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/todos/",  # no trailing slash
        "/api/v1/todos/abc",  # ids are numbers
        "/api/v1/todos/" + "9" * 19,  # too large for a bigint: never reaches the database
        "/api/v1/conversations/NOT-A-UUID",
        f"/api/v1/conversations/{ID.upper()}",  # Django's uuid converter is lower-case
        "/api/v1/shares/has%00nul",
        "/api/v1/shares/" + "a" * 65,
    ],
)
def test_malformed_ids_never_reach_a_view(path):
    with pytest.raises(Resolver404):
        resolve(path.replace("%00", "\x00"))


@pytest.mark.django_db
def test_malformed_id_is_a_json_404(api_client):
    response = api_client.get("/api/v1/todos/" + "9" * 19)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
