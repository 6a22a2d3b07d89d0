"""The files API: upload, list, get, download, delete; types, limits and another user's files."""

from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Plan, UserSettings
from files.models import FilePage, StoredFile

from . import makers

pytestmark = pytest.mark.django_db

FILES = "/api/v1/files"


def upload(client, name: str, data: bytes, content_type: str = "application/octet-stream"):
    return client.post(FILES, {"file": SimpleUploadedFile(name, data, content_type=content_type)}, format="multipart")


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Uploads whose after-commit extraction runs (the immediate job backend of the test profile)."""

    def post(client, name, data, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return upload(client, name, data, **kwargs)

    return post


def test_pdf_upload_is_read_into_pages(user_client, user, run_jobs):
    data = makers.pdf_with_text(["첫째 쪽: 회의는 화요일입니다.", "Second page: the budget is 42 won."])
    response = run_jobs(user_client, "회의록.pdf", data, content_type="text/html")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= {"id", "name", "content_type", "size", "status", "error", "pages", "created_at"}
    assert body["name"] == "회의록.pdf"
    # The type comes from the bytes, not the client's "text/html".
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(data)
    assert body["status"] == "processing"  # as answered; the job ran after the commit

    got = user_client.get(f"{FILES}/{body['id']}").json()
    assert got["status"] == "ready", got
    assert got["pages"] == 2
    assert got["error"] is None
    pages = list(FilePage.objects.filter(file_id=body["id"]).order_by("number"))
    assert [page.number for page in pages] == [1, 2]
    assert "회의는 화요일입니다" in pages[0].text
    assert "budget is 42 won" in pages[1].text
    stored = StoredFile.objects.get(pk=body["id"])
    assert stored.blob.name == f"files/{user.pk}/{stored.pk}"  # never the client's name


def test_png_is_ready_at_once(user_client):
    response = upload(user_client, "shot.png", makers.png())
    assert response.status_code == 201
    assert response.json()["content_type"] == "image/png"
    assert response.json()["status"] == "ready"
    assert response.json()["pages"] is None


def test_list_is_paginated_and_only_yours(user_client, outsider_client):
    for index in range(3):
        assert upload(user_client, f"n{index}.txt", f"note {index}".encode()).status_code == 201
    upload(outsider_client, "theirs.txt", b"not yours")
    body = user_client.get(FILES).json()
    assert body["count"] == 3
    assert [row["name"] for row in body["results"]] == ["n2.txt", "n1.txt", "n0.txt"]
    assert user_client.get(FILES, {"page_size": 2}).json()["next"]


def test_another_users_file_is_404_everywhere(user_client, outsider_client):
    file_id = upload(user_client, "private.txt", b"secret words").json()["id"]
    for response in (
        outsider_client.get(f"{FILES}/{file_id}"),
        outsider_client.get(f"{FILES}/{file_id}/content"),
        outsider_client.delete(f"{FILES}/{file_id}"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert StoredFile.objects.filter(pk=file_id).exists()
    assert user_client.get(f"{FILES}/not-a-uuid").status_code == 404


def test_content_is_an_attachment_with_its_name(user_client):
    name = '보고서 "final"; v2.html'
    data = b"<html><script>alert(1)</script><p>hello</p></html>"
    file_id = upload(user_client, name, data).json()["id"]
    response = user_client.get(f"{FILES}/{file_id}/content")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    # HTML is never served as HTML.
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_pdf_keeps_its_type_on_download(user_client):
    file_id = upload(user_client, "a.pdf", makers.pdf_with_text(["x"])).json()["id"]
    response = user_client.get(f"{FILES}/{file_id}/content")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")


def test_delete(user_client, _media_root, django_capture_on_commit_callbacks):
    file_id = upload(user_client, "gone.txt", b"bye").json()["id"]
    blob = _media_root / StoredFile.objects.get(pk=file_id).blob.name
    assert blob.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert user_client.delete(f"{FILES}/{file_id}").status_code == 204
    assert not StoredFile.objects.filter(pk=file_id).exists()
    assert not blob.exists()
    assert user_client.get(f"{FILES}/{file_id}").status_code == 404


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("tool.exe", b"MZ\x90\x00binary"),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("archive.zip", b"PK\x03\x04" + b"\x00" * 40),
        ("fake.txt", b"\x00\x01\x02binary"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100),
    ],
)
def test_unsupported_types_are_415(user_client, name, data):
    response = upload(user_client, name, data)
    assert response.status_code == 415, response.content
    assert response.json()["code"] == "unsupported_type"
    assert "PDF" in response.json()["detail"]
    assert not StoredFile.objects.exists()


def test_hwp5_is_415_asking_for_hwpx(user_client):
    response = upload(user_client, "공문.hwp", makers.hwp5())
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_type"
    assert "HWPX" in response.json()["detail"]


def test_a_file_over_the_limit_is_413(user_client, settings):
    settings.FILES_MAX_UPLOAD_BYTES = 1000
    response = upload(user_client, "big.txt", b"a" * 1001)
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert upload(user_client, "ok.txt", b"a" * 1000).status_code == 201


def test_the_plans_storage_is_409(user_client, user):
    plan = Plan.objects.create(slug="tiny", name="Tiny", daily_message_limit=100, storage_limit_bytes=1500)
    UserSettings.objects.filter(user=user).update(plan=plan)
    assert upload(user_client, "one.txt", b"a" * 1000).status_code == 201
    response = upload(user_client, "two.txt", b"b" * 1000)
    assert response.status_code == 409
    assert response.json()["code"] == "storage_quota_exceeded"
    # Larger than the whole plan: nothing to delete would help.
    response = upload(user_client, "three.txt", b"c" * 2000)
    assert response.status_code == 413
    assert response.json()["code"] == "storage_quota_exceeded"


def test_empty_file_is_400(user_client):
    response = upload(user_client, "empty.txt", b"")
    assert response.status_code == 400


def test_anonymous_is_401(api_client):
    assert api_client.get(FILES).status_code == 401
    assert upload(api_client, "a.txt", b"x").status_code == 401


def test_a_20_mib_upload_gets_through(user_client, settings):
    from core.body_limits import body_limit

    size = 20 * 1024 * 1024
    assert settings.FILES_MAX_UPLOAD_BYTES == size
    # The ASGI body limit lets the file and its form through on this route only.
    assert body_limit("POST", FILES) > size
    assert body_limit("POST", "/api/v1/todos") == settings.REQUEST_MAX_BODY_BYTES
    response = upload(user_client, "big.csv", b"a,b\n" * (size // 4))
    assert response.status_code == 201, response.content
    assert response.json()["size"] == size


def test_an_oversized_body_is_413_before_it_is_parsed(user_client, settings):
    settings.FILES_MAX_UPLOAD_BYTES = 1024
    response = upload(user_client, "huge.txt", b"x" * (1024 + 300 * 1024))
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert not StoredFile.objects.exists()


def test_the_name_must_agree_with_the_bytes(user_client):
    pdf = makers.pdf_with_text(["x"])
    assert upload(user_client, "report.docx", pdf).status_code == 415
    assert upload(user_client, "notes.txt", pdf).status_code == 415
    # Any image name for any image (a screenshot saved as .jpg), and a pasted blob with no name.
    assert upload(user_client, "screenshot.jpg", makers.png()).json()["content_type"] == "image/png"
    assert upload(user_client, "blob", makers.png()).json()["content_type"] == "image/png"
    assert upload(user_client, "blob", b"plain text").status_code == 415
