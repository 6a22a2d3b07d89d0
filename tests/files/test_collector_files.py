"""Collector file items live in the files store: one extraction, and search reads inside them."""

import importlib

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from collector.models import Item
from files.models import StoredFile

from . import makers

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/collector/items"


def test_a_collector_file_is_extracted_and_searchable(user_client, django_capture_on_commit_callbacks):
    data = makers.docx(["연구 보고서", "핵심 결론: 양자 컴퓨터는 2030년에 상용화된다."])
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(
            ITEMS, {"kind": "file", "file": SimpleUploadedFile("연구.docx", data)}, format="multipart"
        )
    assert response.status_code == 201, response.content
    item_id = response.json()["id"]
    body = user_client.get(f"{ITEMS}/{item_id}").json()
    assert body["file"]["status"] == "ready"
    assert body["file"]["pages"] == 1
    assert body["file_size"] == len(data)
    # Words inside the file, not in its title or the item's content.
    found = user_client.get(ITEMS, {"q": "양자 컴퓨터"}).json()["results"]
    assert [row["id"] for row in found] == [item_id]
    assert user_client.get(ITEMS, {"q": "양자 컴퓨터,없는말"}).json()["results"] == []
    # The file is the owner's in the files API too, and the item's download serves it.
    file_id = body["file"]["id"]
    assert user_client.get(f"/api/v1/files/{file_id}").status_code == 200
    download = user_client.get(f"{ITEMS}/{item_id}/file")
    assert b"".join(download.streaming_content) == data


def test_a_failed_extraction_shows_on_the_item(user_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(
            ITEMS, {"kind": "file", "file": SimpleUploadedFile("scan.pdf", makers.pdf_image_only())}, format="multipart"
        )
    body = user_client.get(f"{ITEMS}/{response.json()['id']}").json()
    assert body["file"]["status"] == "failed"
    assert body["file"]["error"] == "no_text"


def test_deleting_the_file_leaves_the_item_without_one(user_client, django_capture_on_commit_callbacks):
    response = user_client.post(
        ITEMS, {"kind": "file", "file": SimpleUploadedFile("a.txt", b"words")}, format="multipart"
    )
    item_id = response.json()["id"]
    file_id = response.json()["file"]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        assert user_client.delete(f"/api/v1/files/{file_id}").status_code == 204
    body = user_client.get(f"{ITEMS}/{item_id}").json()
    assert body["file"] is None
    assert body["file_name"] == "a.txt"
    assert user_client.get(f"{ITEMS}/{item_id}/file").json()["code"] == "item_has_no_file"


def test_old_collector_files_move_into_the_store(user, _media_root):
    item = Item(owner=user, kind="file", title="old", file_name="old.txt", file_size=5, content_type="text/plain")
    item.file.save("old.txt", ContentFile(b"hello"), save=False)
    item.save()
    blob = item.file.name
    migration = importlib.import_module("collector.migrations.0003_item_files_to_store")
    migration.forwards(apps, None)
    item.refresh_from_db()
    assert not item.file
    assert item.file_size is None
    stored = item.stored_file
    assert (stored.owner, stored.name, stored.size, stored.blob.name) == (user, "old.txt", 5, blob)
    # Left "processing": the periodic sweep queues its extraction.
    assert stored.status == "processing"
    assert StoredFile.objects.count() == 1
