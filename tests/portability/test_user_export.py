"""POST /user/export -> GET /user/exports/{id} -> GET /user/exports/{id}/download, and the zip back in."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from collector import services as collector_services
from collector.models import Item
from conversations.models import Conversation, Message
from files import services as files_services
from portability import services
from portability.models import Export, ExportStatus, Import
from sharing import services as sharing_services
from tests.conversations.factories import ConversationFactory
from todos import services as todo_services
from todos.models import Todo

from .conftest import IMPORTS

pytestmark = pytest.mark.django_db

START = "/api/v1/user/export"
EXPORTS = "/api/v1/user/exports"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 a tiny but well-signed pdf\n"


@pytest.fixture
def belongings(user):
    """One of everything a user owns."""
    conversation = ConversationFactory(owner=user, title="Trip to 東京", system_prompt="Be brief.")
    question = Message.objects.create(conversation=conversation, role="user", content="Where first?")
    # A reply regenerated: the old draft is the other version, under the same question.
    Message.objects.create(conversation=conversation, parent=question, depth=1, role="assistant", content="Old draft")
    reply = Message.objects.create(
        conversation=conversation, parent=question, depth=1, role="assistant", content="Asakusa.", finish_reason="stop"
    )
    Conversation.objects.filter(pk=conversation.pk).update(current_message=reply)
    conversation.refresh_from_db()
    ConversationFactory(owner=user, title="Archived one", archived=True)
    note = collector_services.item_create(user=user, kind="note", title="Packing", content="socks", tags=["travel"])
    document = collector_services.item_create(
        user=user, kind="file", file=SimpleUploadedFile("Tickets März.pdf", PDF), content="the tickets"
    )
    todo = todo_services.todo_create(user=user, title="Book flights", todo_date=timezone.now() + timedelta(days=3))
    share = sharing_services.share_create(user=user, conversation=conversation)
    # A file uploaded for a chat (the files store), attached to the first message.
    attachment = files_services.file_create(owner=user, upload=SimpleUploadedFile("일정.txt", "3일차: 교토".encode()))
    conversation.messages.get(content="Where first?").attachments.add(attachment)
    return {
        "conversation": conversation,
        "note": note,
        "file": document,
        "todo": todo,
        "share": share,
        "attachment": attachment,
    }


@pytest.fixture
def start_export(django_capture_on_commit_callbacks):
    def post(client):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(START)

    return post


def _zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_export_job_download_and_every_part_of_the_zip(user_client, user, belongings, start_export):
    response = start_export(user_client)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["download_url"] is None

    status = user_client.get(f"{EXPORTS}/{body['id']}").json()
    assert status["status"] == "done", status
    assert status["counts"] == {
        "conversations": 2,
        "messages": 3,
        "collector_items": 2,
        "collector_files": 1,
        "missing_files": 0,
        "files": 2,
        "todos": 1,
        "shares": 1,
    }
    assert status["download_url"] == f"http://testserver{EXPORTS}/{body['id']}/download"
    expires = Export.objects.get(pk=body["id"]).expires_at
    assert timedelta(days=6, hours=23) < expires - timezone.now() <= timedelta(days=7)
    assert [row["id"] for row in user_client.get(EXPORTS).json()["results"]] == [body["id"]]

    download = user_client.get(status["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert download["Content-Disposition"].startswith('attachment; filename="chat-export-')
    archive = _zip(download)
    assert set(archive.namelist()) == {
        "README.txt",
        "manifest.json",
        "profile.json",
        "settings.json",
        "conversations.json",
        "collector/items.json",
        f"collector/files/{belongings['file'].pk}/Tickets_März.pdf",
        "files/files.json",
        f"files/{belongings['attachment'].pk}/일정.txt",
        "todos.json",
        "shares.json",
    }
    manifest = json.loads(archive.read("manifest.json"))
    assert (manifest["format"], manifest["version"]) == ("chat-server.user-export", 1)
    assert manifest["user"] == {"id": user.pk, "email": "alice@example.com"}
    profile = json.loads(archive.read("profile.json"))
    assert (profile["email"], profile["display_name"]) == ("alice@example.com", "Alice")
    settings_part = json.loads(archive.read("settings.json"))
    assert settings_part["theme"] == "system" and "plan" in settings_part

    bundle = json.loads(archive.read("conversations.json"))
    assert (bundle["format"], bundle["version"]) == ("chat-server.conversations", 1)
    trip = next(c for c in bundle["conversations"] if c["title"] == "Trip to 東京")
    assert trip["system_prompt"] == "Be brief."
    # The full record: the other version of the reply is in it, under the same question.
    ids = {m["content"]: m["id"] for m in trip["messages"]}
    assert [(m["content"], m["parent_id"]) for m in trip["messages"]] == [
        ("Where first?", None),
        ("Old draft", ids["Where first?"]),
        ("Asakusa.", ids["Where first?"]),
    ]
    assert trip["current_message_id"] == ids["Asakusa."]
    assert "superseded" not in trip["messages"][0]
    assert next(c for c in bundle["conversations"] if c["title"] == "Archived one")["archived"] is True

    items = json.loads(archive.read("collector/items.json"))
    by_kind = {item["kind"]: item for item in items}
    assert by_kind["note"]["tags"] == ["travel"] and by_kind["note"]["content"] == "socks"
    file_entry = by_kind["file"]["file"]
    assert file_entry["name"] == "Tickets März.pdf"
    assert file_entry["content_type"] == "application/pdf"
    # The file's own bytes.
    assert archive.read(file_entry["path"]) == PDF

    # Every uploaded file: the collector's bytes are not written twice; an attachment's are under files/.
    files = {entry["name"]: entry for entry in json.loads(archive.read("files/files.json"))}
    assert set(files) == {"Tickets März.pdf", "일정.txt"}
    assert files["Tickets März.pdf"]["path"] == file_entry["path"]
    assert files["Tickets März.pdf"]["collector_item_ids"] == [belongings["file"].pk]
    attachment = files["일정.txt"]
    assert archive.read(attachment["path"]) == "3일차: 교토".encode()
    assert attachment["message_ids"] == [str(belongings["conversation"].messages.get(content="Where first?").pk)]
    assert (attachment["content_type"], attachment["size"]) == ("text/plain", len("3일차: 교토".encode()))

    todos = json.loads(archive.read("todos.json"))
    assert [todo["title"] for todo in todos] == ["Book flights"]
    shares = json.loads(archive.read("shares.json"))
    assert shares[0]["id"] == belongings["share"].pk
    assert shares[0]["url"] == f"/share/{belongings['share'].pk}/"
    assert [m["content"] for m in shares[0]["messages"]] == ["Where first?", "Asakusa."]
    assert "Import it into an account" in archive.read("README.txt").decode()


def test_another_users_export_is_a_404(user_client, outsider_client, belongings, start_export):
    export_id = start_export(user_client).json()["id"]
    assert outsider_client.get(f"{EXPORTS}/{export_id}").status_code == 404
    assert outsider_client.get(f"{EXPORTS}/{export_id}/download").status_code == 404
    assert outsider_client.get(EXPORTS).json()["results"] == []
    assert user_client.get(f"{EXPORTS}/00000000-0000-4000-8000-000000000000/download").status_code == 404


def test_download_needs_the_bearer_token(api_client, user_client, belongings, start_export):
    export_id = start_export(user_client).json()["id"]
    assert api_client.get(f"{EXPORTS}/{export_id}/download").status_code == 401
    assert api_client.post(START).status_code == 401


def test_a_download_before_it_is_done_is_409_and_after_expiry_410(user_client, user, belongings, start_export):
    queued = services.user_export_start(user=user)  # not run: its job would start after commit
    response = user_client.get(f"{EXPORTS}/{queued.pk}/download")
    assert response.status_code == 409
    assert response.json()["code"] == "export_not_ready"
    Export.objects.filter(pk=queued.pk).update(status=ExportStatus.FAILED)
    assert user_client.get(f"{EXPORTS}/{queued.pk}/download").json()["code"] == "export_failed"

    done = Export.objects.get(pk=start_export(user_client).json()["id"])
    assert done.status == ExportStatus.DONE
    Export.objects.filter(pk=done.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = user_client.get(f"{EXPORTS}/{done.pk}/download")
    assert response.status_code == 410
    assert response.json()["code"] == "export_expired"
    assert user_client.get(f"{EXPORTS}/{done.pk}").json()["download_url"] is None


def test_expired_exports_lose_their_files(user_client, user, belongings, start_export, _media_root, settings):
    settings.PORTABILITY_EXPORT_DAYS = 1
    done = Export.objects.get(pk=start_export(user_client).json()["id"])
    path = _media_root / done.file.name
    assert path.is_file() and path.is_relative_to(_media_root / "exports")
    assert services.exports_purge_expired() == 0
    assert services.exports_purge_expired(now=timezone.now() + timedelta(days=1, seconds=1)) == 1
    done.refresh_from_db()
    assert (done.status, done.file.name) == (ExportStatus.EXPIRED, "")
    assert not path.exists()
    assert user_client.get(f"{EXPORTS}/{done.pk}/download").status_code == 410


def test_asking_again_while_one_is_in_progress_answers_that_one(user):
    first = services.user_export_start(user=user)
    assert services.user_export_start(user=user) == first
    Export.objects.filter(pk=first.pk).update(status=ExportStatus.DONE)
    assert services.user_export_start(user=user) != first


def test_an_export_that_cannot_be_written_fails_with_a_message(user, monkeypatch, django_capture_on_commit_callbacks):
    from portability import archive

    def broken(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(archive, "write_user_archive", broken)
    with django_capture_on_commit_callbacks(execute=True):
        export = services.user_export_start(user=user)
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert export.error == "The export could not be written; ask for a new one."
    assert not export.file


def test_the_zip_imports_back_into_another_account(
    user_client, outsider_client, outsider, belongings, start_export, upload
):
    status = user_client.get(f"{EXPORTS}/{start_export(user_client).json()['id']}").json()
    data = b"".join(user_client.get(status["download_url"]).streaming_content)

    body = upload(outsider_client, data, name="chat-export.zip").json()
    done = outsider_client.get(f"{IMPORTS}/{body['id']}").json()
    assert done["status"] == "done", done
    assert done["source_format"] == "chat-server-user"
    assert (done["conversations_imported"], done["messages_imported"]) == (2, 3)
    assert (done["items_imported"], done["todos_imported"], done["errors"]) == (2, 1, [])
    assert (done["files_imported"], done["files_skipped"]) == (1, 0)

    trip = Conversation.objects.get(owner=outsider, title="Trip to 東京")
    question, old_draft, reply = trip.messages.order_by("created_at")
    assert [(m.content, m.parent_id) for m in (question, old_draft, reply)] == [
        ("Where first?", None),
        ("Old draft", question.pk),
        ("Asakusa.", question.pk),
    ]
    assert trip.current_message_id == reply.pk
    # The chat attachment too, on the same message, in the new account's files store.
    attached = trip.messages.get(content="Where first?").attachments.get()
    assert (attached.owner, attached.name, attached.blob.read()) == (outsider, "일정.txt", "3일차: 교토".encode())
    file_item = Item.objects.get(owner=outsider, kind="file")
    assert file_item.file_name == "Tickets März.pdf"
    assert file_item.content == "the tickets"
    with file_item.stored_file.blob.open("rb") as stored:  # restored into the files store
        assert stored.read() == PDF
    assert file_item.created_at == belongings["file"].created_at
    note = Item.objects.get(owner=outsider, kind="note")
    assert [tag.name for tag in note.tags.all()] == ["travel"]
    todo = Todo.objects.get(owner=outsider)
    assert (todo.title, todo.todo_date) == ("Book flights", belongings["todo"].todo_date)

    # A second run brings nothing twice.
    again = upload(outsider_client, data, name="chat-export.zip").json()
    done = Import.objects.get(pk=again["id"])
    assert (done.conversations_skipped, done.items_skipped, done.todos_skipped, done.files_skipped) == (2, 2, 1, 1)
    assert (Conversation.objects.filter(owner=outsider).count(), Item.objects.filter(owner=outsider).count()) == (2, 2)


def test_the_purge_job_deletes_expired_files(user_client, belongings, start_export):
    from portability.tasks import exports_purge_job

    done = Export.objects.get(pk=start_export(user_client).json()["id"])
    Export.objects.filter(pk=done.pk).update(expires_at=timezone.now())
    result = exports_purge_job.enqueue()
    assert result.return_value == 1
    assert Export.objects.get(pk=done.pk).status == ExportStatus.EXPIRED
