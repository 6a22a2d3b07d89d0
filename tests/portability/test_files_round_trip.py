"""A user export's files, through the real export job and back into another account: a chat
attachment comes back as a file of the new account (read again by its extraction), linked to its
message; a reply's sources point at the new rows; nothing is imported twice; a plan's storage that
is full is an error of that file, not of the import."""

import io
import json
import uuid
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Plan, UserSettings
from collector import services as collector_services
from collector.models import Item
from conversations.models import Conversation, Message
from files import services as files_services
from files.models import FilePage, StoredFile
from portability.models import Import, ImportRecord, RecordKind
from tests.conversations.factories import ConversationFactory
from tests.files import makers

from .conftest import IMPORTS

pytestmark = pytest.mark.django_db

EXPORTS = "/api/v1/user/exports"
REPORT = makers.pdf_with_text(["첫째 쪽: 회의는 화요일입니다.", "Second page: the budget is 42 won."])
MANUAL = makers.pdf_with_text(["The manual: press the red button twice."])


@pytest.fixture
def exported(user, user_client, django_capture_on_commit_callbacks):
    """Alice's account (a PDF attached to a question, a reply with sources, a collector file also
    attached to the question), and the zip of the real export job."""
    conversation = ConversationFactory(owner=user, title="Budget")
    with django_capture_on_commit_callbacks(execute=True):
        report = files_services.file_create(owner=user, upload=SimpleUploadedFile("회의록.pdf", REPORT))
        manual = collector_services.item_create(
            user=user, kind="file", file=SimpleUploadedFile("manual.pdf", MANUAL), tags=["work"]
        )
    question = Message.objects.create(conversation=conversation, role="user", content="What is the budget?")
    question.attachments.add(report, manual.stored_file)
    sources = [
        {"n": 1, "kind": "file", "id": str(report.pk), "title": "회의록.pdf", "snippet": "the budget is 42", "page": 2},
        {"n": 2, "kind": "item", "id": str(manual.pk), "title": "manual.pdf", "snippet": "press the red", "page": 1},
        # A file deleted since: its id names nothing in any account.
        {"n": 3, "kind": "file", "id": str(uuid.uuid4()), "title": "old.txt", "snippet": "gone", "page": None},
    ]
    Message.objects.create(
        conversation=conversation, parent=question, depth=1, role="assistant", content="42 won [1].", sources=sources
    )
    with django_capture_on_commit_callbacks(execute=True):
        started = user_client.post("/api/v1/user/export")
    status = user_client.get(f"{EXPORTS}/{started.json()['id']}").json()
    assert status["status"] == "done", status
    data = b"".join(user_client.get(status["download_url"]).streaming_content)
    return {"zip": data, "report": report, "manual": manual, "sources": sources}


def _import(client, data, upload) -> dict:
    body = upload(client, data, name="chat-export.zip").json()
    return client.get(f"{IMPORTS}/{body['id']}").json()


def test_the_export_writes_attachments_and_sources_into_the_conversation(exported):
    archive = zipfile.ZipFile(io.BytesIO(exported["zip"]))
    conversation = json.loads(archive.read("conversations.json"))["conversations"][0]
    question, reply = conversation["messages"]
    report, manual = exported["report"], exported["manual"].stored_file
    assert [(a["id"], a["name"], a["content_type"], a["size"]) for a in question["attachments"]] == [
        (str(report.pk), "회의록.pdf", "application/pdf", len(REPORT)),
        (str(manual.pk), "manual.pdf", "application/pdf", len(MANUAL)),
    ]
    assert reply["sources"] == exported["sources"]
    files = {entry["id"]: entry for entry in json.loads(archive.read("files/files.json"))}
    assert archive.read(files[str(report.pk)]["path"]) == REPORT


def test_a_user_export_round_trip_keeps_files_attachments_and_sources(
    exported, outsider, outsider_client, upload, django_capture_on_commit_callbacks
):
    done = _import(outsider_client, exported["zip"], upload)
    assert done["status"] == "done", done
    assert done["errors"] == []
    assert (done["files_imported"], done["items_imported"], done["conversations_imported"]) == (1, 1, 1)

    copy = Conversation.objects.get(owner=outsider, title="Budget")
    question = copy.messages.get(role="user")
    reply = copy.messages.get(role="assistant")
    attached = {file.name: file for file in question.attachments.all()}
    assert set(attached) == {"회의록.pdf", "manual.pdf"}
    report = attached["회의록.pdf"]
    assert report.owner == outsider and report.pk != exported["report"].pk
    with report.blob.open("rb") as blob:
        assert blob.read() == REPORT
    assert (report.content_type, report.size, report.created_at) == (
        "application/pdf",
        len(REPORT),
        exported["report"].created_at,
    )
    # Read again in the new account, by its extraction job (the immediate backend ran it on commit).
    report.refresh_from_db()
    assert (report.status, report.pages) == ("ready", 2)
    assert "budget is 42 won" in FilePage.objects.get(file=report, number=2).text

    # The collector item is back with its file, the very file the question holds.
    item = Item.objects.get(owner=outsider, kind="file")
    assert item.stored_file == attached["manual.pdf"]
    with item.stored_file.blob.open("rb") as blob:
        assert blob.read() == MANUAL
    assert [tag.name for tag in item.tags.all()] == ["work"]

    # Sources as text; ids those of the new rows, or none.
    assert reply.sources == [
        {**exported["sources"][0], "id": str(report.pk)},
        {**exported["sources"][1], "id": str(item.pk)},
        {**exported["sources"][2], "id": None},
    ]
    shown = outsider_client.get(f"/api/v1/conversations/{copy.pk}/messages").json()
    shown = shown.get("results", shown)
    assert sorted(a["name"] for a in shown[0]["attachments"]) == ["manual.pdf", "회의록.pdf"]
    assert outsider_client.get(f"/api/v1/files/{report.pk}/content").status_code == 200

    # Again: nothing twice.
    files_before = set(StoredFile.objects.filter(owner=outsider).values_list("pk", flat=True))
    again = _import(outsider_client, exported["zip"], upload)
    assert (again["status"], again["errors"]) == ("done", [])
    assert (again["files_imported"], again["files_skipped"]) == (0, 1)
    assert (again["items_skipped"], again["conversations_skipped"]) == (1, 1)
    assert set(StoredFile.objects.filter(owner=outsider).values_list("pk", flat=True)) == files_before
    assert Conversation.objects.filter(owner=outsider).count() == 1
    assert Message.objects.filter(conversation__owner=outsider).count() == 2
    assert ImportRecord.objects.get(owner=outsider, kind=RecordKind.FILE).target_id == str(report.pk)


def test_a_deleted_file_comes_back_with_a_reimport_of_its_conversation(exported, outsider, outsider_client, upload):
    _import(outsider_client, exported["zip"], upload)
    copy = Conversation.objects.get(owner=outsider)
    report = StoredFile.objects.get(owner=outsider, name="회의록.pdf")
    outsider_client.delete(f"/api/v1/conversations/{copy.pk}")
    # Deleting the conversation took its attachment with it (no other message or item held it).
    assert not StoredFile.objects.filter(pk=report.pk).exists()
    done = _import(outsider_client, exported["zip"], upload)
    assert (done["files_imported"], done["conversations_imported"], done["errors"]) == (1, 1, [])
    question = Conversation.objects.get(owner=outsider).messages.get(role="user")
    assert sorted(file.name for file in question.attachments.all()) == ["manual.pdf", "회의록.pdf"]


def test_storage_full_during_the_import_is_that_files_error(exported, outsider, outsider_client, upload):
    # Room for the (smaller) collector file, not for the attachment, which is imported first.
    assert len(MANUAL) < len(REPORT)
    plan = Plan.objects.create(slug="small", name="Small", daily_message_limit=100, storage_limit_bytes=len(REPORT) - 1)
    UserSettings.objects.filter(user=outsider).update(plan=plan)
    response = upload(outsider_client, exported["zip"], name="chat-export.zip")
    assert response.status_code == 202, response.content
    done = outsider_client.get(f"{IMPORTS}/{response.json()['id']}").json()
    assert done["status"] == "done", done
    assert [(e["kind"], e["title"]) for e in done["errors"]] == [("file", "회의록.pdf")]
    assert "storage" in done["errors"][0]["error"].lower()
    assert (done["files_imported"], done["items_imported"], done["conversations_imported"]) == (0, 1, 1)
    # The rest came in: the question holds the file that fit, the reply its sources' text.
    question = Conversation.objects.get(owner=outsider).messages.get(role="user")
    assert [file.name for file in question.attachments.all()] == ["manual.pdf"]
    assert not StoredFile.objects.filter(owner=outsider, name="회의록.pdf").exists()
    assert Import.objects.get(pk=response.json()["id"]).errors[0]["kind"] == "file"


def test_a_file_that_fails_its_checks_is_reported_and_the_rest_goes_on(exported, outsider, outsider_client, upload):
    # The zip edited: the attachment's bytes replaced by an executable (a type no reader takes).
    source = zipfile.ZipFile(io.BytesIO(exported["zip"]))
    files = json.loads(source.read("files/files.json"))
    path = next(entry["path"] for entry in files if entry["name"] == "회의록.pdf")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(
                info.filename, b"MZ\x90\x00" + bytes(range(256)) * 4 if info.filename == path else source.read(info)
            )
    done = _import(outsider_client, out.getvalue(), upload)
    assert done["status"] == "done", done
    assert [(e["kind"], e["title"]) for e in done["errors"]] == [("file", "회의록.pdf")]
    assert (done["items_imported"], done["conversations_imported"]) == (1, 1)


def test_the_zip_imported_into_its_own_account_duplicates_nothing(exported, user, user_client, upload):
    files_before = set(StoredFile.objects.filter(owner=user).values_list("pk", flat=True))
    done = _import(user_client, exported["zip"], upload)
    assert (done["status"], done["errors"]) == ("done", [])
    assert (done["files_skipped"], done["items_skipped"], done["conversations_skipped"]) == (1, 1, 1)
    assert set(StoredFile.objects.filter(owner=user).values_list("pk", flat=True)) == files_before
    assert not ImportRecord.objects.filter(owner=user, kind=RecordKind.FILE).exists()


def test_an_import_is_not_held_to_the_processing_cap(exported, outsider, outsider_client, upload, settings):
    # The outsider already has as many documents waiting to be read as an upload may have.
    settings.FILES_MAX_PROCESSING_PER_USER = 1
    files_services.file_create(owner=outsider, upload=SimpleUploadedFile("waiting.txt", b"waiting"))
    assert StoredFile.objects.filter(owner=outsider, status="processing").count() == 1
    done = _import(outsider_client, exported["zip"], upload)
    assert done["status"] == "done", done
    assert done["errors"] == []
    assert (done["files_imported"], done["items_imported"]) == (1, 1)
