"""Everything else a file touches: conversation deletion and the retention purge, the account's
deletion, the periodic sweep, storage usage."""

import sqlite3
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from accounts import services as account_services
from accounts.storage import storage_used_bytes
from collector import services as collector_services
from conversations import retention
from conversations import services as conversation_services
from conversations.models import Conversation
from files import services
from files.models import FileStatus, StoredFile
from tests.conversations.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def a_file(owner, name="a.txt", data=b"words") -> StoredFile:
    return services.file_create(owner=owner, upload=SimpleUploadedFile(name, data))


def attached(owner, *files, conversation=None):
    conversation = conversation or ConversationFactory(owner=owner)
    message = MessageFactory(conversation=conversation)
    message.attachments.add(*files)
    return conversation


def test_deleting_a_conversation_deletes_files_only_it_holds(user, _media_root, django_capture_on_commit_callbacks):
    only_here, shared, in_collector = a_file(user, "1.txt"), a_file(user, "2.txt"), None
    item = collector_services.item_create(user=user, kind="file", file=SimpleUploadedFile("3.txt", b"three"))
    in_collector = item.stored_file
    conversation = attached(user, only_here, shared, in_collector)
    attached(user, shared)  # another conversation holds it too
    blob = _media_root / only_here.blob.name
    with django_capture_on_commit_callbacks(execute=True):
        conversation_services.conversation_delete(conversation=conversation)
    assert set(StoredFile.objects.values_list("name", flat=True)) == {"2.txt", "3.txt"}
    assert not blob.exists()


def test_the_retention_purge_deletes_the_files_of_what_it_purges(user):
    old_file, kept_file = a_file(user, "old.txt"), a_file(user, "kept.txt")
    old = attached(user, old_file)
    attached(user, kept_file)
    Conversation.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=400))
    purged = retention.conversations_purge(cutoff=timezone.now() - timedelta(days=365))
    assert purged.conversations == 1
    assert list(StoredFile.objects.values_list("name", flat=True)) == ["kept.txt"]


def test_deleting_the_account_deletes_its_files(user, outsider, _media_root, django_capture_on_commit_callbacks):
    mine, theirs = a_file(user), a_file(outsider)
    blob = _media_root / mine.blob.name
    with django_capture_on_commit_callbacks(execute=True):
        deleted = account_services.user_delete(user=user)
    assert deleted.files == 1
    assert list(StoredFile.objects.all()) == [theirs]
    assert not blob.exists()
    assert (_media_root / theirs.blob.name).exists()


def test_the_sweep_requeues_a_lost_extraction_once_then_fails_it(user, django_capture_on_commit_callbacks):
    stored = a_file(user)  # its job never ran: the on-commit hook was not run
    assert stored.status == FileStatus.PROCESSING
    later = timezone.now() + timedelta(hours=1)
    # A worker took it and stopped: one run counted, still processing.
    StoredFile.objects.filter(pk=stored.pk).update(extract_runs=1)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.files_sweep(now=later)
    assert (result["requeued"], result["failed"]) == (1, 0)
    stored.refresh_from_db()
    assert stored.status == FileStatus.READY  # the immediate backend ran it at once

    lost = a_file(user, "b.txt")
    StoredFile.objects.filter(pk=lost.pk).update(extract_runs=2)
    result = services.files_sweep(now=later)
    assert (result["requeued"], result["failed"]) == (0, 1)
    lost.refresh_from_db()
    assert (lost.status, lost.error) == (FileStatus.FAILED, "timeout")


def test_the_sweep_removes_old_orphan_blobs(user, _media_root):
    kept = a_file(user)
    orphan = _media_root / "files" / str(user.pk) / "0f0f0f0f-0000-0000-0000-000000000000"
    orphan.write_bytes(b"left behind")
    result = services.files_sweep(now=timezone.now() + timedelta(hours=2))
    assert result["orphan_blobs"] == 1
    assert not orphan.exists()
    assert (_media_root / kept.blob.name).exists()
    # A young one may be a row still committing: left alone.
    orphan.write_bytes(b"young")
    assert services.files_sweep()["orphan_blobs"] == 0


def test_storage_counts_each_file_once(user):
    a_file(user, data=b"x" * 100)
    collector_services.item_create(user=user, kind="file", file=SimpleUploadedFile("c.txt", b"y" * 50))
    assert storage_used_bytes(user_id=user.pk) == 150


def test_deleting_a_file_takes_it_off_its_messages(user_client, user):
    stored = a_file(user)
    conversation = attached(user, stored)
    message = conversation.messages.get()
    assert user_client.delete(f"/api/v1/files/{stored.pk}").status_code == 204
    message.refresh_from_db()
    assert list(message.attachments.all()) == []
    assert message.content  # the message itself stays


@pytest.fixture
def strict_sqlite_variables():
    """SQLite's variable limit as many builds have it (999 before 3.32, 32,766 since; this Python's
    SQLite allows 250,000): a folder of more names than that in one query fails there."""
    if connection.vendor != "sqlite":
        yield None
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    yield 999
    raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, before)


def test_the_sweep_looks_blobs_up_in_batches(user, _media_root, strict_sqlite_variables):
    kept = a_file(user)
    folder = _media_root / "files" / str(user.pk)
    for index in range(1_500):
        (folder / f"orphan-{index:05d}").write_bytes(b"")
    result = services.files_sweep(now=timezone.now() + timedelta(hours=2))
    assert result["orphan_blobs"] == 1_500
    assert [path.name for path in folder.iterdir()] == [kept.blob.name.rsplit("/", 1)[1]]
