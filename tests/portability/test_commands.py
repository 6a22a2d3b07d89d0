"""manage.py import_chatgpt, export_user, import_user and purge_exports."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from collector import services as collector_services
from collector.models import Item
from conversations.models import Conversation, Message
from files import services as files_services
from portability.models import Export, ExportStatus, Import, JobStatus
from tests.accounts.factories import UserFactory
from tests.conversations.factories import ConversationFactory
from todos import services as todo_services
from todos.models import Todo

from . import chatgpt_export as gpt

pytestmark = pytest.mark.django_db


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as the progress bar draws only on one."""

    def isatty(self) -> bool:
        return True


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), Terminal()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- import_chatgpt --------------------------------------------------------------------------------


def test_import_chatgpt_imports_with_a_progress_bar_and_a_summary(user, tmp_path):
    path = tmp_path / "conversations.json"
    data = gpt.export()
    data.insert(1, {"title": "Broken", "mapping": None})
    path.write_bytes(gpt.as_json(data))

    out, err = run("import_chatgpt", str(path), "--user", "ALICE@example.com")
    assert out.splitlines() == [
        "Imported 2 conversation(s) with 8 message(s); skipped 0, failed 1.",
        "  conversation #1 'Broken': the conversation has no 'mapping' (its message tree)",
    ]
    assert "Importing" in err and "3/3" in err
    assert set(Conversation.objects.filter(owner=user).values_list("title", flat=True)) == {"Grüße, 東京", "Pancakes"}
    row = Import.objects.get(owner=user)  # recorded like an upload: in the user's list and the admin
    assert (row.status, row.file_name, row.source_format) == (JobStatus.DONE, "conversations.json", "chatgpt")

    out, _ = run("import_chatgpt", str(path), "--user", "alice@example.com")
    assert out.splitlines()[0] == "Imported 0 conversation(s) with 0 message(s); skipped 2, failed 1."


def test_import_chatgpt_reads_the_zip(user, tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(gpt.as_zip(gpt.export()))
    out, _ = run("import_chatgpt", str(path), "--user", "alice@example.com")
    assert out.startswith("Imported 2 conversation(s) with 8 message(s)")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "The file is not JSON (nor a zip)."),
        (b'{"a": 1}', "The file is a JSON object, not a list of conversations."),
        (gpt.as_zip([], name="nothing.json"), "The zip has no conversations.json."),
    ],
)
def test_import_chatgpt_bad_input_is_a_one_line_command_error(user, tmp_path, content, message):
    path = tmp_path / "input"
    path.write_bytes(content)
    with pytest.raises(CommandError) as caught:
        run("import_chatgpt", str(path), "--user", "alice@example.com")
    assert str(caught.value).startswith(f"{path}: {message}")
    assert "\n" not in str(caught.value)
    assert not Conversation.objects.exists()


def test_import_chatgpt_missing_file_or_unknown_user(user, tmp_path):
    with pytest.raises(CommandError, match=r"^No such file: .*missing\.json$"):
        run("import_chatgpt", str(tmp_path / "missing.json"), "--user", "alice@example.com")
    path = tmp_path / "conversations.json"
    path.write_bytes(gpt.as_json(gpt.export()))
    with pytest.raises(CommandError, match=r"^No user with the email 'nobody@example.com'\.$"):
        run("import_chatgpt", str(path), "--user", "nobody@example.com")
    with pytest.raises(CommandError, match="--user"):
        run("import_chatgpt", str(path))


# --- export_user / import_user ----------------------------------------------------------------------


@pytest.fixture
def belongings(user):
    conversation = ConversationFactory(owner=user, title="Notes on Ærø")
    question = Message.objects.create(conversation=conversation, role="user", content="Hej!")
    question.attachments.add(files_services.file_create(owner=user, upload=SimpleUploadedFile("færge.txt", b"10:15")))
    Message.objects.create(conversation=conversation, role="assistant", content="Hej hej.")
    collector_services.item_create(user=user, kind="link", url="https://example.com/ferry", tags=["ferry"])
    collector_services.item_create(user=user, kind="file", file=SimpleUploadedFile("map.md", "# Ærø\n".encode()))
    todo_services.todo_create(user=user, title="Ferry tickets", complete=True)
    return conversation


def test_export_user_writes_the_zip(user, belongings, tmp_path):
    target = tmp_path / "alice.zip"
    out, err = run("export_user", "alice@example.com", "--output", str(target))
    assert out.startswith(f"Wrote {target} (")
    assert "1 conversations, 2 messages, 2 collector items, 1 collector files" in out
    assert "Exporting" in err
    with zipfile.ZipFile(target) as archive:
        assert json.loads(archive.read("manifest.json"))["user"]["email"] == "alice@example.com"
        files = [name for name in archive.namelist() if name.startswith("collector/files/")]
        assert [archive.read(name) for name in files] == ["# Ærø\n".encode()]
    assert not list(tmp_path.glob(".export-*"))  # no scratch file left behind
    assert not Export.objects.exists()  # a command's export is the file it wrote, not a download


def test_export_user_into_a_directory_and_its_errors(user, belongings, tmp_path):
    out, _ = run("export_user", "alice@example.com", "--output", str(tmp_path))
    written = list(tmp_path.glob("chat-export-alice-at-examplecom-*.zip"))
    assert len(written) == 1 and str(written[0]) in out
    with pytest.raises(CommandError, match=r"^No user with the email 'bob@example.com'\.$"):
        run("export_user", "bob@example.com")
    with pytest.raises(CommandError, match=r"^No such directory: "):
        run("export_user", "alice@example.com", "--output", str(tmp_path / "missing" / "x.zip"))


def test_import_user_into_another_account_then_again(user, belongings, tmp_path):
    target = tmp_path / "alice.zip"
    run("export_user", "alice@example.com", "--output", str(target))
    bob = UserFactory(email="bob@example.com")

    out, _ = run("import_user", str(target), "--user", "bob@example.com")
    assert out.splitlines() == [
        "Into bob@example.com:",
        "Imported 1 conversation(s) with 2 message(s); skipped 0, failed 0.",
        "Collector items: 2 imported, 0 skipped; todos: 1 imported, 0 skipped.",
        "Files (chat attachments, uploads): 1 imported, 0 skipped.",
    ]
    assert Conversation.objects.get(owner=bob).title == "Notes on Ærø"
    attached = Message.objects.get(conversation__owner=bob, role="user").attachments.get()
    assert attached.name == "færge.txt" and attached.blob.read() == b"10:15"
    assert sorted(Item.objects.filter(owner=bob).values_list("kind", flat=True)) == ["file", "link"]
    todo = Todo.objects.get(owner=bob)
    assert todo.complete and todo.completed_at == Todo.objects.get(owner=user).completed_at

    # Idempotent: a second run skips everything it brought in.
    out, _ = run("import_user", str(target), "--user", "bob@example.com")
    assert out.splitlines()[1:] == [
        "Imported 0 conversation(s) with 0 message(s); skipped 1, failed 0.",
        "Collector items: 0 imported, 2 skipped; todos: 0 imported, 1 skipped.",
        "Files (chat attachments, uploads): 0 imported, 1 skipped.",
    ]
    assert Conversation.objects.filter(owner=bob).count() == 1
    assert Item.objects.filter(owner=bob).count() == 2


def test_import_user_defaults_to_the_exports_own_account(user, belongings, tmp_path):
    target = tmp_path / "alice.zip"
    run("export_user", "alice@example.com", "--output", str(target))
    # Into the account it came from, with everything still there: nothing is duplicated.
    out, _ = run("import_user", str(target))
    assert out.splitlines()[0] == "Into alice@example.com:"
    assert "skipped 1" in out and "2 skipped" in out
    assert Conversation.objects.filter(owner=user).count() == 1
    # Restoring what was deleted since.
    belongings.delete()
    Item.objects.filter(owner=user, kind="link").delete()
    out, _ = run("import_user", str(target))
    assert out.splitlines()[1] == "Imported 1 conversation(s) with 2 message(s); skipped 0, failed 0."
    assert Item.objects.filter(owner=user).count() == 2


def test_import_user_errors(user, tmp_path):
    with pytest.raises(CommandError, match=r"^No such file: "):
        run("import_user", str(tmp_path / "missing.zip"))
    chatgpt = tmp_path / "chatgpt.zip"
    chatgpt.write_bytes(gpt.as_zip(gpt.export()))
    with pytest.raises(CommandError, match=r"not a user export of this server \(no readable manifest.json\)\.$"):
        run("import_user", str(chatgpt), "--user", "alice@example.com")
    stranger = tmp_path / "stranger.zip"
    with zipfile.ZipFile(stranger, "w") as archive:
        archive.writestr(
            "manifest.json",
            json.dumps({"format": "chat-server.user-export", "version": 1, "user": {"email": "x@example.com"}}),
        )
        archive.writestr("conversations.json", "[]")
    with pytest.raises(CommandError, match=r"^No user with the email 'x@example.com'\.$"):
        run("import_user", str(stranger))


# --- purge_exports ---------------------------------------------------------------------------------


def test_purge_exports(user, tmp_path, django_capture_on_commit_callbacks):
    from portability import services

    with django_capture_on_commit_callbacks(execute=True):
        export = services.user_export_start(user=user)
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    out, _ = run("purge_exports")
    assert out == "Deleted the files of 1 expired export(s).\n"
    assert Export.objects.get(pk=export.pk).status == ExportStatus.EXPIRED
