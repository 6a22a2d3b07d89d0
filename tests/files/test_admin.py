"""Files in the admin: listed with owner, size, status and pages, filtered by status, "Extract
again" audited; the bytes are never linked or rendered. Storage per user on the usage dashboard."""

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from console.usage import usage_storage
from files import services
from files.models import FileStatus, StoredFile

from . import makers

pytestmark = pytest.mark.django_db

LIST = "/admin/files/storedfile/"


@pytest.fixture
def admin_web(client):
    client.force_login(User.objects.create_superuser(email="root@example.com", password="Admin-pass-1"))
    return client


def a_file(owner, name, data, capture=None):
    if capture is None:
        return services.file_create(owner=owner, upload=SimpleUploadedFile(name, data))
    with capture(execute=True):
        return services.file_create(owner=owner, upload=SimpleUploadedFile(name, data))


def test_the_list_and_its_status_filter(admin_web, user, django_capture_on_commit_callbacks):
    a_file(user, "보고서.pdf", makers.pdf_with_text(["한 쪽"]), django_capture_on_commit_callbacks)
    a_file(user, "scan.pdf", makers.pdf_image_only(), django_capture_on_commit_callbacks)
    page = admin_web.get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert "보고서.pdf" in html and "scan.pdf" in html and user.email in html
    failed = admin_web.get(LIST, {"status__exact": "failed"}).content.decode()
    assert "scan.pdf" in failed and "보고서.pdf" not in failed
    assert "no_text" in failed


def test_the_detail_never_links_the_bytes(admin_web, user):
    stored = a_file(user, "page.html", b"<script>alert(1)</script><p>x</p>")
    html = admin_web.get(f"{LIST}{stored.pk}/change/").content.decode()
    assert "page.html" in html
    assert stored.blob.name not in html
    assert "<script>alert(1)</script>" not in html
    assert admin_web.get(f"{LIST}add/").status_code == 403


def test_extract_again_is_audited(admin_web, user, monkeypatch, django_capture_on_commit_callbacks):
    real = services.extraction.extract_bounded
    monkeypatch.setattr(services.extraction, "extract_bounded", lambda *a: services.extraction.Outcome(error="timeout"))
    stored = a_file(user, "a.txt", "다시".encode(), django_capture_on_commit_callbacks)
    stored.refresh_from_db()
    assert stored.error == "timeout"
    monkeypatch.setattr(services.extraction, "extract_bounded", real)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post(LIST, {"action": "extract_again", "_selected_action": [str(stored.pk)]})
    assert response.status_code == 302
    stored.refresh_from_db()
    assert stored.status == FileStatus.READY
    entry = LogEntry.objects.get_for_object(stored).get()
    assert entry.additional_data == {"staff_action": "extract again"}


def test_storage_per_user(user, outsider, django_assert_num_queries):
    a_file(user, "a.txt", b"x" * 300)
    a_file(user, "b.txt", b"x" * 200)
    a_file(outsider, "c.txt", b"x" * 100)
    with django_assert_num_queries(1):
        storage = usage_storage()
    assert (storage["total_bytes"], storage["total_files"], storage["users"]) == (600, 3, 2)
    assert [(row["email"], row["bytes"], row["files"]) for row in storage["top"]] == [
        (user.email, 500, 2),
        (outsider.email, 100, 1),
    ]
    assert StoredFile.objects.count() == 3


def test_the_usage_dashboard_shows_storage(admin_web, user):
    a_file(user, "a.txt", b"x" * 2048)
    html = admin_web.get("/admin/usage/").content.decode()
    assert 'id="usage-storage"' in html
    assert f'data-storage-user="{user.email}"' in html
    assert "2.0\xa0KB" in html
