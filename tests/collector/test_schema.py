import pytest

pytestmark = pytest.mark.django_db


def test_schema_documents_collector_and_todo_endpoints(api_client):
    paths = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for path, methods in {
        "/api/v1/collector/items": {"get", "post"},
        "/api/v1/collector/items/{id}": {"get", "patch", "delete"},
        "/api/v1/collector/items/{id}/file": {"get"},
        "/api/v1/collector/tags": {"get"},
        "/api/v1/conversations/{id}/context-items": {"get", "put"},
        "/api/v1/todos": {"get", "post"},
        "/api/v1/todos/{id}": {"get", "put", "patch", "delete"},
        "/api/v1/todos/search": {"get"},
    }.items():
        assert methods <= set(paths[path]), path
    search_params = {p["name"] for p in paths["/api/v1/todos/search"]["get"]["parameters"]}
    assert {"title", "date", "complete", "tz", "page"} <= search_params
    assert "multipart/form-data" in paths["/api/v1/collector/items"]["post"]["requestBody"]["content"]
