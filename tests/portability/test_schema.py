"""Every portability operation is in the OpenAPI document with its request and response types."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(api_client):
    return api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


def test_every_operation_is_documented(document):
    paths = document["paths"]
    expected = {
        ("/api/v1/imports", "get"): "imports_list",
        ("/api/v1/imports", "post"): "imports_create",
        ("/api/v1/imports/{id}", "get"): "imports_retrieve",
        ("/api/v1/conversations/{id}/export", "get"): "conversations_export_retrieve",
        ("/api/v1/user/export", "post"): "user_export_create",
        ("/api/v1/user/exports", "get"): "user_exports_list",
        ("/api/v1/user/exports/{id}", "get"): "user_exports_retrieve",
        ("/api/v1/user/exports/{id}/download", "get"): "user_exports_download_retrieve",
    }
    for (path, method), operation_id in expected.items():
        operation = paths[path][method]
        assert operation["operationId"] == operation_id
        assert operation["summary"]
        assert operation["tags"] == ["portability"]


def test_upload_is_multipart_and_downloads_are_files(document):
    upload = document["paths"]["/api/v1/imports"]["post"]
    assert list(upload["requestBody"]["content"]) == ["multipart/form-data"]
    form = document["components"]["schemas"]["ImportCreateRequest"]
    assert form["properties"]["file"] == {**form["properties"]["file"], "type": "string", "format": "binary"}
    assert set(upload["responses"]) >= {"202", "400", "401", "413", "415", "429"}

    export = document["paths"]["/api/v1/conversations/{id}/export"]["get"]
    assert set(export["responses"]["200"]["content"]) == {"application/json", "text/markdown"}
    fmt = next(p for p in export["parameters"] if p["name"] == "format")
    assert fmt["schema"]["enum"] == ["json", "markdown"]

    download = document["paths"]["/api/v1/user/exports/{id}/download"]["get"]
    assert download["responses"]["200"]["content"] == {
        "application/zip": {"schema": {"type": "string", "format": "binary"}}
    }
    assert set(download["responses"]) >= {"200", "401", "404", "409", "410"}
    assert "requestBody" not in document["paths"]["/api/v1/user/export"]["post"]
