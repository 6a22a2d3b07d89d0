"""Upload checks on hostile files: each is a clear 4xx, never a 500, and cheap to refuse."""

import io
import os
import struct
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from collector.models import Item
from files.models import StoredFile

from . import makers

pytestmark = pytest.mark.django_db

FILES = "/api/v1/files"
ITEMS = "/api/v1/collector/items"


def upload(client, name: str, data: bytes):
    return client.post(FILES, {"file": SimpleUploadedFile(name, data)}, format="multipart")


def _patch_central_header(data: bytes, filename: bytes, *, flag_bits=None, method=None) -> bytes:
    """The zip with one part's central directory entry changed (what zipfile trusts when reading)."""
    data = bytearray(data)
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        name_length = struct.unpack_from("<H", data, start + 28)[0]
        if bytes(data[start + 46 : start + 46 + name_length]) == filename:
            if flag_bits is not None:
                struct.pack_into("<H", data, start + 8, flag_bits)
            if method is not None:
                struct.pack_into("<H", data, start + 10, method)
            return bytes(data)
        start += 4
    raise AssertionError(f"no part {filename!r}")


@pytest.mark.parametrize(
    ("change", "error"),
    [({"flag_bits": 0x1}, RuntimeError), ({"method": 77}, NotImplementedError)],
    ids=["encrypted", "unknown-compression"],
)
def test_a_hwpx_whose_mimetype_cannot_be_read_is_415(user_client, change, error):
    data = _patch_central_header(makers.hwpx([["본문"]]), b"mimetype", **change)
    with zipfile.ZipFile(io.BytesIO(data)) as package, pytest.raises(error):
        package.read("mimetype")  # what the check meets
    response = upload(user_client, "문서.hwpx", data)
    assert response.status_code == 415, response.content
    assert response.json()["code"] == "unsupported_type"


def test_deeply_nested_json_is_415_like_broken_json(user_client):
    response = upload(user_client, "deep.json", b"[" * 100_000)
    assert response.status_code == 415, response.content
    assert response.json()["code"] == "unsupported_type"
    assert "not valid JSON" in response.json()["detail"]


def test_a_file_whose_bytes_are_lost_is_409_on_download(user_client):
    file_id = upload(user_client, "shot.png", makers.png()).json()["id"]
    os.remove(StoredFile.objects.get(pk=file_id).blob.path)
    response = user_client.get(f"{FILES}/{file_id}/content")
    assert response.status_code == 409
    assert response.json()["code"] == "file_content_missing"
    assert user_client.get(f"{FILES}/{file_id}").json()["id"] == file_id  # the row itself still answers


def test_a_collector_file_whose_bytes_are_lost_is_409_on_download(user_client, user):
    response = user_client.post(
        ITEMS, {"kind": "file", "file": SimpleUploadedFile("notes.txt", b"some notes")}, format="multipart"
    )
    assert response.status_code == 201, response.content
    item = Item.objects.get(pk=response.json()["id"])
    os.remove(item.stored_file.blob.path)
    response = user_client.get(f"{ITEMS}/{item.pk}/file")
    assert response.status_code == 409
    assert response.json()["code"] == "file_content_missing"

    # A collector file from before the files store (the item's own file field), lost the same way.
    old = Item(owner=user, kind="file", title="old", file_name="old.txt", file_size=5, content_type="text/plain")
    old.file.save("old.txt", ContentFile(b"hello"), save=True)
    os.remove(old.file.path)
    response = user_client.get(f"{ITEMS}/{old.pk}/file")
    assert response.status_code == 409
    assert response.json()["code"] == "file_content_missing"


def _docx_with_parts(extra: int, *, name_length: int = 12) -> bytes:
    """A real DOCX with ``extra`` empty parts added (what a directory-stuffing upload looks like)."""
    real = zipfile.ZipFile(io.BytesIO(makers.docx(["본문"])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for info in real.infolist():
            package.writestr(info, real.read(info.filename))
        for index in range(extra):
            package.writestr(f"customXml/{index:0{name_length}d}.xml", b"")
    return out.getvalue()


def test_a_zip_listing_too_many_parts_is_refused_before_it_is_opened(user_client, monkeypatch):
    data = _docx_with_parts(10_001)
    opened = []
    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", lambda self: opened.append(self))
    response = upload(user_client, "many.docx", data)
    assert response.status_code == 415, response.content
    assert response.json()["code"] == "unsupported_type"
    assert "listing 10,0" in response.json()["detail"]
    assert "at most 10,000 parts" in response.json()["detail"]
    assert opened == []  # its directory was never read


def test_a_zip_directory_over_4_mib_is_refused(user_client):
    # Few parts, long names: 120 entries of 40,000-byte names.
    response = upload(user_client, "long.docx", _docx_with_parts(120, name_length=40_000))
    assert response.status_code == 415, response.content
    assert "MiB of directory" in response.json()["detail"]


def test_a_docx_with_many_parts_below_the_bound_is_taken(user_client):
    response = upload(user_client, "fine.docx", _docx_with_parts(2_000))
    assert response.status_code == 201, response.content
    assert response.json()["content_type"].endswith("wordprocessingml.document")


def test_a_users_sixth_document_in_processing_is_429(user_client, outsider_client, user):
    for index in range(5):  # the default FILES_MAX_PROCESSING_PER_USER; their jobs do not run here
        response = upload(user_client, f"note-{index}.txt", f"note {index}".encode())
        assert response.status_code == 201, response.content
        assert response.json()["status"] == "processing"
    refused = upload(user_client, "sixth.txt", b"one more")
    assert refused.status_code == 429, refused.content
    assert refused.json()["code"] == "too_many_files_processing"
    assert int(refused["Retry-After"]) > 0
    assert StoredFile.objects.filter(owner=user).count() == 5  # nothing stored for it
    # Images are ready at once: never refused for it. Another user has their own count.
    assert upload(user_client, "shot.png", makers.png()).status_code == 201
    assert upload(outsider_client, "theirs.txt", b"theirs").status_code == 201
    # The same rule for a collector file (it goes through the same file_create).
    response = user_client.post(
        ITEMS, {"kind": "file", "file": SimpleUploadedFile("notes.txt", b"notes")}, format="multipart"
    )
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "too_many_files_processing"
    # Once one is read (or failed), there is room again.
    StoredFile.objects.filter(owner=user, name="note-0.txt").update(status="failed")
    assert upload(user_client, "sixth.txt", b"one more").status_code == 201


def test_the_processing_cap_follows_its_setting(user_client, settings):
    settings.FILES_MAX_PROCESSING_PER_USER = 1
    assert upload(user_client, "a.txt", b"a").status_code == 201
    assert upload(user_client, "b.txt", b"b").status_code == 429
    settings.FILES_MAX_PROCESSING_PER_USER = 0  # no cap
    for name in "cdefgh":
        assert upload(user_client, f"{name}.txt", name.encode()).status_code == 201
