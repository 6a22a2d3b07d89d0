"""Uploads: limits, type checks by extension and by content, private storage and download."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from collector.models import Item
from files.models import StoredFile

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/collector/items"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%fake but well-signed\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def upload(client, name: str, data: bytes, content_type: str = "application/octet-stream", **extra):
    file = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post(ITEMS, {"kind": "file", "file": file, **extra}, format="multipart")


def test_text_upload_stores_file_privately_and_extracts_text(
    user_client, user, _media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the extraction job runs after commit
        response = upload(user_client, "Report Q3.md", "# Budget\nnaïve café\n".encode(), tags=["finance"])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Report Q3.md"
    assert body["file_name"] == "Report Q3.md"
    assert body["content_type"] == "text/markdown"
    assert body["file_size"] == len("# Budget\nnaïve café\n".encode())
    # The item's own content is the user's description; the file's text is in the files store.
    assert body["content"] == ""
    assert body["tags"] == ["finance"]
    assert body["download_url"].endswith(f"/api/v1/collector/items/{body['id']}/file")
    assert body["file"]["status"] == "processing"
    again = user_client.get(f"{ITEMS}/{body['id']}").json()
    assert again["file"]["status"] == "ready"
    assert again["file"]["pages"] == 1
    assert again["file"]["error"] is None

    item = Item.objects.get(pk=body["id"])
    # A random stored name: the client's file name never reaches the filesystem.
    assert not item.file
    assert item.stored_file.blob.name == f"files/{user.pk}/{item.stored_file_id}"
    assert os.path.exists(_media_root / item.stored_file.blob.name)
    # The extracted text is searchable.
    found = user_client.get(ITEMS, {"q": "budget,café"}).json()["results"]
    assert [row["id"] for row in found] == [body["id"]]


def test_binary_upload_keeps_the_users_description(user_client):
    response = upload(user_client, "photo.PNG", PNG, content="my cat", title="Cat")
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "image/png"
    assert response.json()["content"] == "my cat"
    for name, data, expected in [("doc.pdf", PDF, "application/pdf"), ("p.jpeg", JPEG, "image/jpeg")]:
        assert upload(user_client, name, data).json()["content_type"] == expected


def test_client_content_type_is_not_trusted(user_client):
    response = upload(user_client, "notes.txt", b"plain words", content_type="image/png")
    assert response.status_code == 201
    assert response.json()["content_type"] == "text/plain"


def test_too_large_upload_is_400(user_client, settings):
    settings.COLLECTOR_MAX_UPLOAD_BYTES = 16
    response = upload(user_client, "big.txt", b"x" * 17)
    assert response.status_code == 400
    assert "too large" in response.json()["file"][0]
    assert upload(user_client, "ok.txt", b"x" * 16).status_code == 201
    assert Item.objects.count() == 1


def test_empty_upload_is_400(user_client):
    response = upload(user_client, "empty.txt", b"")
    assert response.status_code == 400
    assert "file" in response.json()


@pytest.mark.parametrize("name", ["script.js", "run.exe", "image.svg", "noextension"])
def test_disallowed_type_is_415(user_client, name):
    response = upload(user_client, name, b"<script>alert(1)</script>", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_type"
    assert not Item.objects.exists()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("photo.png", b"<html><script>alert(1)</script></html>"),  # text pretending to be an image
        ("doc.pdf", PNG),  # an image named as a PDF
        ("notes.txt", PNG),  # an image named as text
        ("notes.md", b"MZ\x90\x00binary"),  # an executable named as text
        ("data.json", b"{not json"),
    ],
)
def test_type_spoofed_by_extension_is_415(user_client, name, data):
    # The files store's check (files.uploads): the same for chat attachments and collector files.
    response = upload(user_client, name, data)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_type"
    assert not Item.objects.exists()


def test_text_in_another_encoding_is_read(user_client):
    # Not only UTF-8: Korean CP949/EUC-KR files are common (files/extraction.py decodes them).
    assert upload(user_client, "latin1.txt", "café".encode("latin-1")).status_code == 201


def test_download_for_owner_only(user_client, outsider_client, api_client):
    body = upload(user_client, "Résumé 2026.txt", b"hello file").json()
    url = f"{ITEMS}/{body['id']}/file"

    response = user_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"hello file"
    assert response["Content-Type"].startswith("text/plain")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "R%C3%A9sum%C3%A9%202026.txt" in response["Content-Disposition"]

    assert outsider_client.get(url).status_code == 404
    assert api_client.get(url).status_code == 401


def test_note_has_no_file_to_download(user_client):
    # The item exists, so not a 404 (schemathesis follows POST /items to /items/{id}/file and
    # rightly calls a 404 there a resource that vanished): a 409 saying what it is.
    body = user_client.post(ITEMS, {"kind": "note", "title": "n"}).json()
    response = user_client.get(f"{ITEMS}/{body['id']}/file")
    assert response.status_code == 409
    assert response.json()["code"] == "item_has_no_file"


def test_media_url_does_not_serve_uploads(user_client, client):
    body = upload(user_client, "secret.txt", b"secret").json()
    stored = Item.objects.get(pk=body["id"]).stored_file.blob.name
    assert client.get(f"/media/{stored}").status_code == 404


def test_delete_removes_the_stored_file_after_commit(user_client, _media_root, django_capture_on_commit_callbacks):
    body = upload(user_client, "gone.txt", b"bye").json()
    stored = Item.objects.get(pk=body["id"]).stored_file
    path = _media_root / stored.blob.name
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert user_client.delete(f"{ITEMS}/{body['id']}").status_code == 204
    # The item's file goes with it from the files store (no message holds it).
    assert not StoredFile.objects.filter(pk=stored.pk).exists()
    assert not path.exists()


def test_failed_save_leaves_no_orphan_file(user, _media_root, monkeypatch):
    from collector import services

    def boom(**kwargs):
        raise RuntimeError("tag storage failed")

    monkeypatch.setattr(services, "_tags_get_or_create", boom)
    with pytest.raises(RuntimeError):
        services.item_create(user=user, kind="file", file=SimpleUploadedFile("a.txt", b"text"), tags=["x"])
    assert not Item.objects.exists()
    stored = list((_media_root / "files").rglob("*")) if (_media_root / "files").exists() else []
    assert [p for p in stored if p.is_file()] == []


def test_deleting_the_account_removes_its_files(user_client, user, _media_root, django_capture_on_commit_callbacks):
    body = upload(user_client, "mine.txt", b"mine").json()
    path = _media_root / Item.objects.get(pk=body["id"]).stored_file.blob.name
    with django_capture_on_commit_callbacks(execute=True):
        user.delete()
    assert not path.exists()


def test_oversized_body_is_refused_before_parsing(user_client, settings):
    settings.COLLECTOR_MAX_UPLOAD_BYTES = 1024
    response = upload(user_client, "huge.txt", b"x" * (1024 + 300 * 1024))
    assert response.status_code == 400
    assert "upload is too large" in response.json()["file"][0]
    assert not Item.objects.exists()


def test_an_upload_with_unusual_tags_keeps_them_or_says_why(user_client, user, _media_root):
    # Found by schemathesis: non-ASCII tags answered 500 (SQLite's lower() is ASCII-only, so the
    # tag just created was not found again), and a NUL byte reached PostgreSQL.
    tags = ["Ärger", "İstanbul", "straße", "ÄRGER", "x" * 50]
    response = upload(user_client, "notes.txt", b"hello", tags=tags)
    assert response.status_code == 201, response.content
    assert sorted(response.json()["tags"]) == sorted(["Ärger", "İstanbul", "straße", "x" * 50])
    again = upload(user_client, "more.txt", b"hello", tags=["ärger", "Ärger"])
    assert again.status_code == 201, again.content

    bad = upload(user_client, "bad.txt", b"hello", tags=["fine", "nul\x00byte"])
    assert bad.status_code == 400
    assert "tags" in bad.json()
