"""Security, round three (issue 18), the imports: each hole tried the way the issue describes it.

- Hole 2, a tiny import exhausts the job worker's memory: a 20 KB zip whose ``conversations.json``
  is ``[`` + ``{},`` x 7,000,000 + ``{}]`` took the worker to 2.0 GB (the file was parsed whole);
  one giant conversation, or deep nesting, did the same. Now every JSON an import reads is a stream,
  one entry at a time within its limits (``portability/jsonstream.py``), and the import job stays
  under ``conf.IMPORT_MEMORY_CEILING`` (256 MiB of growth) whatever the file: measured here on the
  real command in a process of its own. An import that failed on its file is a final ``failed``
  with its ``error`` (never run again), and one whose worker stopped twice is not run a third time.
- Hole 4, a user-archive import multiplies storage: a 6.5 KB upload whose ``collector/items.json``
  names one zip member 100 times wrote 524 MB. Now each file of the zip is read once, every file a
  user stores counts against their plan's storage (``Plan.storage_limit_bytes``,
  ``accounts/storage.py``), and the collector API and the importer refuse what does not fit.
"""

import io
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Plan
from accounts.storage import storage_used_bytes
from collector.models import Item
from conversations.models import Conversation
from portability import conf, importing, services, sources
from portability.models import Import, JobStatus
from tests.portability import chatgpt_export as gpt
from tests.portability.conftest import IMPORTS
from testsupport.servers import ROOT, manage, own_database, server_env

MIB = 1024 * 1024
ITEMS = "/api/v1/collector/items"
SUBSCRIPTION = "/api/v1/user/settings/subscription"


# --- files -------------------------------------------------------------------------------------


def _zip(members: dict[str, bytes | Iterable[bytes]]) -> bytes:
    """A zip (deflated as hard as zip goes); a member given as pieces is written as a stream, so a
    huge one is never whole in this process either."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            with archive.open(name, "w", force_zip64=True) as member:
                for chunk in [data] if isinstance(data, bytes) else data:
                    member.write(chunk)
    return buffer.getvalue()


def _repeat(chunk: bytes, times: int) -> Iterator[bytes]:
    """``chunk * times`` in pieces of about a megabyte."""
    step = max(1, 1_000_000 // len(chunk))
    return (chunk * min(step, times - done) for done in range(0, times, step))


def hostile_zip() -> bytes:
    """The issue's zip: ``[`` + ``{},`` x 7,000,000 + ``{}]`` as conversations.json (about 20 KB)."""
    return _zip({"conversations.json": [b"[", *_repeat(b"{},", 7_000_000), b"{}]"]})


def _good(index: int) -> bytes:
    conversation = gpt.recipe_conversation()
    conversation.update(id=f"good-{index}", title=f"Good {index}")
    return json.dumps(conversation).encode()


def giant_entry_zip() -> bytes:
    """A good conversation, one of 5,000,000 empty objects (15 MB, within the file's limits), and
    another good one."""
    giant = [b'{"title": "Spam", "mapping": {}, "junk": [', *_repeat(b"{},", 5_000_000), b"{}]}"]
    return _zip({"conversations.json": [b"[", _good(1), b",", *giant, b",", _good(2), b"]"]})


def giant_string_zip() -> bytes:
    """One conversation holding a single 200 MB string (about 200 KB zipped)."""
    return _zip(
        {"conversations.json": [b'[{"title": "Huge", "mapping": {}, "junk": "', *_repeat(b"a" * 1000, 200_000), b'"}]']}
    )


def deep_zip() -> bytes:
    """A list nested 10,000,000 deep (about 10 KB zipped)."""
    return _zip({"conversations.json": [*_repeat(b"[", 10_000_000), *_repeat(b"]", 10_000_000)]})


def user_archive(items: list[dict], files: dict[str, bytes | Iterable[bytes]]) -> bytes:
    return _zip(
        {
            "manifest.json": json.dumps({"format": "chat-server.user-export", "version": 1}).encode(),
            "conversations.json": json.dumps(
                {"format": "chat-server.conversations", "version": 1, "conversations": []}
            ).encode(),
            "collector/items.json": json.dumps(items).encode(),
            **files,
        }
    )


# --- hole 2, measured on the real command in a process of its own -------------------------------


# Runs a command and writes its peak memory (KiB) and exit code to a file. The measured process is
# this launcher's child, not the test's: on Linux a process's ru_maxrss starts from the peak of the
# process it was spawned from (kept across exec), and the test process is large.
_LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def _run_measured(env: dict, *args: str, timeout: float = 300) -> tuple[int, int, str]:
    """``manage.py args`` as a process of its own: (exit code, its peak resident memory in bytes,
    what it wrote)."""
    with tempfile.TemporaryDirectory() as scratch:
        report, output = Path(scratch) / "report", Path(scratch) / "output"
        with output.open("wb") as out:
            subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
                [sys.executable, "-c", _LAUNCHER, str(report), sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=True,
            )
        peak_kib, code = map(int, report.read_text().split())
        return code, peak_kib * 1024, output.read_text(errors="replace")


@pytest.fixture(scope="module")
def worker_env(tmp_path_factory):
    """A database of its own with one user, and the peak memory of importing a real export there
    (the baseline: Django, the apps, an import's own work)."""
    tmp_path = tmp_path_factory.mktemp("imports-memory")
    with own_database(tmp_path, "importsmemory") as database_url:
        env = server_env(database_url, tmp_path, DJANGO_MEDIA_ROOT=str(tmp_path / "media"))
        manage(env, "migrate", "--noinput")
        create = "from accounts import services; services.user_create(email='m@example.com', password='Memory-test-42')"
        manage(env, "shell", "-c", create)
        real = tmp_path / "export.zip"
        real.write_bytes(gpt.as_zip(gpt.export()))
        code, baseline, output = _run_measured(env, "import_chatgpt", str(real), "--user", "m@example.com")
        assert code == 0, output
        assert "Imported 2 conversation(s) with 8 message(s)" in output  # every version of a turn
        yield env, baseline, tmp_path


def _import_measured(worker_env, name: str, data: bytes, **extra_env) -> tuple[int, int, str]:
    env, baseline, tmp_path = worker_env
    path = tmp_path / name
    path.write_bytes(data)
    code, peak, output = _run_measured({**env, **extra_env}, "import_chatgpt", str(path), "--user", "m@example.com")
    growth = peak - baseline
    print(f"{name}: {len(data)} bytes, peak {peak / MIB:.0f} MiB, {growth / MIB:+.0f} MiB on the baseline")  # noqa: T201
    assert code >= 0, f"killed by signal {-code}: {output}"
    assert growth < conf.IMPORT_MEMORY_CEILING, f"{growth / MIB:.0f} MiB over the baseline: {output}"
    return code, growth, output


@pytest.mark.slow
def test_the_issues_20_kb_zip_ends_failed_with_a_clear_error_under_the_ceiling(worker_env):
    data = hostile_zip()
    assert len(data) < 25_000
    code, _, output = _import_measured(worker_env, "hostile.zip", data)
    assert code == 1
    assert "conversations.json holds more than 100000 entries (conversations; the limit of one import)" in output


@pytest.mark.slow
def test_with_the_entry_limit_raised_millions_of_empty_entries_still_stay_under_the_ceiling(worker_env):
    """Memory does not grow with the entries: each is read, refused and forgotten."""
    data = _zip({"conversations.json": [b"[", *_repeat(b"{},", 2_000_000), b"{}]"]})
    code, _, output = _import_measured(worker_env, "empties.zip", data, PORTABILITY_MAX_IMPORT_ENTRIES="10000000")
    assert code == 0, output
    assert "Imported 0 conversation(s) with 0 message(s); skipped 0, failed 2000001." in output


@pytest.mark.slow
def test_one_giant_conversation_fails_alone_under_the_ceiling(worker_env):
    code, _, output = _import_measured(worker_env, "giant-entry.zip", giant_entry_zip())
    assert code == 0, output
    assert "Imported 2 conversation(s)" in output
    assert "failed 1" in output
    assert "conversation #1 'Spam': it holds more than 500000 JSON values (the limit of one entry)" in output


@pytest.mark.slow
def test_one_giant_string_ends_the_file_under_the_ceiling(worker_env):
    code, _, output = _import_measured(worker_env, "giant-string.zip", giant_string_zip())
    assert code == 1
    assert "conversation 0 holds a single value larger than 16 MiB (the limit of one entry)" in output


@pytest.mark.slow
def test_deep_nesting_ends_the_file_under_the_ceiling(worker_env):
    code, _, output = _import_measured(worker_env, "deep.zip", deep_zip())
    assert code == 1
    assert "conversations.json is nested deeper than 100 levels" in output


# --- hole 2, the same rules through the API and the job, in this process -----------------------


def _done(client, response) -> dict:
    assert response.status_code == 202, response.content
    return client.get(f"{IMPORTS}/{response.json()['id']}").json()


@pytest.mark.django_db
def test_the_issues_zip_through_the_api_fails_before_anything_is_written(user_client, user, upload):
    done = _done(user_client, upload(user_client, hostile_zip(), name="export.zip"))
    assert done["status"] == "failed"
    assert done["error"].startswith("conversations.json holds more than 100000 entries (conversations;")
    assert done["conversations_total"] is None
    assert not Conversation.objects.filter(owner=user).exists()
    # A final failure of the import, never an error of the job: nothing runs it again.
    assert services.import_run(import_id=done["id"]) is None
    assert Import.objects.get(pk=done["id"]).attempts == 1


@pytest.mark.django_db
def test_an_entry_over_its_limits_fails_alone_and_names_the_limit(user_client, user, upload, settings):
    settings.PORTABILITY_MAX_ENTRY_VALUES = 1000
    settings.PORTABILITY_MAX_ENTRY_BYTES = 300_000
    many_values = {"title": "Many", "mapping": {}, "junk": [{}] * 2000}
    many_bytes = {"title": "Long", "mapping": {}, "junk": ["x" * 1000] * 900}  # 900 KB, 900 values
    data = gpt.as_json([gpt.trip_conversation(), many_values, many_bytes, gpt.recipe_conversation()])
    done = _done(user_client, upload(user_client, data))
    assert done["status"] == "done"
    assert (done["conversations_total"], done["conversations_imported"], done["conversations_failed"]) == (4, 2, 2)
    assert [(e["index"], e["title"], e["error"]) for e in done["errors"]] == [
        (1, "Many", "it holds more than 1000 JSON values (the limit of one entry)"),
        (2, "Long", "it is larger than 300000 bytes (the limit of one entry)"),
    ]


@pytest.mark.django_db
def test_a_single_value_over_the_entry_limit_ends_the_file(user_client, upload, settings):
    settings.PORTABILITY_MAX_ENTRY_BYTES = 300_000
    data = gpt.as_json([gpt.trip_conversation(), {"title": "Huge", "mapping": {}, "junk": "x" * 1_000_000}])
    done = _done(user_client, upload(user_client, data))
    assert done["status"] == "failed"
    assert done["error"] == (
        "The file: conversation 1 holds a single value larger than 300000 bytes (the limit of one entry); "
        "the file cannot be read past it."
    )
    assert done["conversations_imported"] == 0  # told by the first pass, before anything was written


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"[" * 200 + b"]" * 200, "The file is nested deeper than 100 levels."),
        (b'[{"mapping": {}}] [1]', "The file is not valid JSON: parse error: trailing garbage"),
        (b"[" + b"{}," * 20 + b"{}]", "The file holds more than 10 entries (conversations; the limit of one import)"),
    ],
)
def test_rules_of_the_whole_file_end_it_failed_with_the_rule(user_client, upload, settings, data, error):
    settings.PORTABILITY_MAX_IMPORT_ENTRIES = 10
    done = _done(user_client, upload(user_client, data))
    assert done["status"] == "failed"
    assert done["error"].startswith(error), done["error"]


@pytest.mark.django_db
def test_a_user_exports_items_and_todos_are_read_one_at_a_time_within_the_same_limits(
    user_client, user, upload, settings
):
    settings.PORTABILITY_MAX_ENTRY_VALUES = 1000
    items = [{"id": 1, "kind": "note", "title": "Kept", "created_at": "2026-01-01T00:00:00Z"}]
    items.append({"id": 2, "kind": "note", "title": "Spam", "tags": ["x"] * 2000})
    todos = [{"id": 3, "title": "Spam todo", "description": "", "junk": [[]] * 2000}, {"id": 4, "title": "Kept too"}]
    data = user_archive(items, {"todos.json": json.dumps(todos).encode()})
    done = _done(user_client, upload(user_client, data, name="export.zip"))
    assert done["status"] == "done"
    assert (done["items_imported"], done["todos_imported"]) == (1, 1)
    limit = "it holds more than 1000 JSON values (the limit of one entry)"
    assert [(e["kind"], e["index"], e["title"], e["error"]) for e in done["errors"]] == [
        ("item", 1, "Spam", limit),
        ("todo", 0, "Spam todo", limit),
    ]
    # Not a list: the whole file fails before anything is written.
    done = _done(user_client, upload(user_client, user_archive([], {"todos.json": b'{"a": 1}'}), name="export.zip"))
    assert (done["status"], done["error"]) == ("failed", "todos.json must be a list.")


@pytest.mark.django_db
def test_a_utf8_bom_and_our_own_documents_still_read(user_client, user, upload):
    done = _done(user_client, upload(user_client, b"\xef\xbb\xbf" + gpt.as_json(gpt.export())))
    assert (done["status"], done["conversations_imported"]) == ("done", 2)
    exported = user_client.get(f"/api/v1/conversations/{Conversation.objects.filter(owner=user).first().pk}/export")
    Conversation.objects.filter(owner=user).delete()
    done = _done(user_client, upload(user_client, exported.content, name="one.json"))
    assert (done["status"], done["conversations_imported"], done["messages_imported"]) == ("done", 1, 3)


@pytest.mark.django_db
def test_an_import_out_of_time_ends_failed_keeping_what_came_in(user, settings, tmp_path):
    path = tmp_path / "conversations.json"
    path.write_bytes(gpt.as_json(gpt.export()))
    settings.PORTABILITY_IMPORT_MAX_SECONDS = 0
    row = services.import_file(user=user, path=path)
    assert row.status == JobStatus.FAILED
    assert row.error == "The file was still being read when the import's time was up."

    # Time running out between two conversations: the first stays, and the error says so.
    settings.PORTABILITY_IMPORT_MAX_SECONDS = 3600
    row = Import.objects.create(owner=user, status=JobStatus.RUNNING)
    with path.open("rb") as fileobj:
        source = sources.read_source(fileobj)
        run = importing.ImportRun(
            row, source, progress=lambda done, total: time.sleep(0.3), deadline=time.monotonic() + 0.2
        )
        row = run.run()
    assert row.status == JobStatus.FAILED, row.error
    assert row.error.startswith("The import took longer than 3600 seconds (its limit) and was stopped")
    assert row.error.endswith("What was imported before it is kept.")
    assert row.conversations_imported == 1
    assert Import.objects.get(pk=row.pk).conversations_imported == 1


@pytest.mark.django_db
def test_an_import_whose_worker_stopped_twice_is_not_run_a_third_time(user):
    row = services.import_start(user=user, upload=SimpleUploadedFile("c.json", gpt.as_json(gpt.export())))
    # As if two workers had claimed it and been killed mid-way.
    Import.objects.filter(pk=row.pk).update(status=JobStatus.RUNNING, attempts=services.MAX_IMPORT_RUNS)
    assert services.import_run(import_id=row.pk) is None
    row.refresh_from_db()
    assert row.status == JobStatus.FAILED
    assert row.error.startswith("The import was interrupted 2 times (its worker stopped) and is not tried again")
    assert not row.file
    assert not Conversation.objects.filter(owner=user).exists()


@pytest.mark.django_db
def test_a_zip_listing_too_many_files_is_refused_at_upload(user_client, upload, monkeypatch):
    monkeypatch.setattr(sources, "MAX_ZIP_DIRECTORY_BYTES", 2000)
    members = {f"file-{index}.png": b"" for index in range(100)}
    response = upload(user_client, _zip({**members, "conversations.json": b"[]"}), name="export.zip")
    assert response.status_code == 400
    assert response.json()["file"][0].startswith("The zip lists too many files (its directory is ")
    assert upload(user_client, gpt.as_zip(gpt.export()), name="export.zip").status_code == 202


# --- hole 4: storage -----------------------------------------------------------------------------


def _file_item(index: int, path: str) -> dict:
    return {
        "id": index,
        "kind": "file",
        "title": f"Copy {index}",
        "file": {"path": path, "name": "notes.txt", "size": 5 * MIB, "content_type": "text/plain"},
        "created_at": f"2026-01-01T00:00:{index % 60:02d}.{index:06d}Z",
    }


def _stored_bytes(media_root: Path) -> int:
    return sum(path.stat().st_size for path in (media_root / "files").rglob("*") if path.is_file())


@pytest.mark.django_db
def test_the_issues_6_kb_archive_naming_one_file_100_times_stores_it_once(user_client, user, upload, _media_root):
    path = "collector/files/1/notes.txt"
    data = user_archive([_file_item(index, path) for index in range(100)], {path: _repeat(b"a" * 1024, 5 * 1024)})
    assert len(data) < 8_000
    done = _done(user_client, upload(user_client, data, name="export.zip"))
    assert done["status"] == "done"
    assert (done["items_imported"], len(done["errors"])) == (1, 99)
    assert done["errors"][0] == {
        "kind": "item",
        "index": 1,
        "title": "Copy 1",
        "error": f"'{path}' was read for item 0 already (each file of the zip is read once)",
    }
    assert _stored_bytes(_media_root) == 5 * MIB  # was 100 times that
    assert storage_used_bytes(user_id=user.pk) == 5 * MIB


@pytest.mark.django_db
def test_an_archive_import_stores_at_most_the_plans_storage(user_client, user, upload, _media_root):
    Plan.objects.filter(slug="free").update(storage_limit_bytes=12 * MIB)
    files = {f"collector/files/{index}/notes.txt": _repeat(b"b" * 1024, 5 * 1024) for index in range(6)}
    items = [_file_item(index, f"collector/files/{index}/notes.txt") for index in range(6)]
    done = _done(user_client, upload(user_client, user_archive(items, files), name="export.zip"))
    assert done["status"] == "done"
    assert done["items_imported"] == 2
    assert [error["error"] for error in done["errors"]] == [
        "The file (5 MiB) does not fit in your plan's storage: 10 MiB of 12 MiB used. Delete files to make room."
    ] * 4
    assert _stored_bytes(_media_root) == 10 * MIB
    assert storage_used_bytes(user_id=user.pk) == 10 * MIB


@pytest.mark.django_db
def test_the_collector_api_refuses_an_upload_over_the_remaining_storage(user_client, outsider_client, user, outsider):
    Plan.objects.filter(slug="free").update(storage_limit_bytes=3 * MIB)

    def post(client, size: int, name: str = "notes.txt"):
        upload = SimpleUploadedFile(name, b"c" * size, content_type="text/plain")
        return client.post(ITEMS, {"kind": "file", "file": upload}, format="multipart")

    assert post(user_client, 2 * MIB).status_code == 201
    refused = post(user_client, 2 * MIB)
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": (
            "The file (2 MiB) does not fit in your plan's storage: 2 MiB of 3 MiB used. Delete files to make room."
        ),
        "code": "storage_quota_exceeded",
    }
    too_large = post(user_client, 4 * MIB)
    assert too_large.status_code == 413
    assert too_large.json()["code"] == "storage_quota_exceeded"
    assert Item.objects.filter(owner=user).count() == 1
    assert post(user_client, 1 * MIB).status_code == 201  # what is left still fits

    # Another user's storage is their own: untouched by the first user's files, and full only of theirs.
    assert post(outsider_client, 2 * MIB).status_code == 201
    assert storage_used_bytes(user_id=outsider.pk) == 2 * MIB
    assert storage_used_bytes(user_id=user.pk) == 3 * MIB
    storage = outsider_client.get(SUBSCRIPTION).json()["storage"]
    assert storage == {"used_bytes": 2 * MIB, "limit_bytes": 3 * MIB}


@pytest.mark.django_db
def test_the_subscription_shows_storage_used_and_the_limit(user_client, user):
    assert user_client.get(SUBSCRIPTION).json()["storage"] == {"used_bytes": 0, "limit_bytes": 1024**3}
    Plan.objects.filter(slug="free").update(storage_limit_bytes=0)
    assert user_client.get(SUBSCRIPTION).json()["storage"] == {"used_bytes": 0, "limit_bytes": None}


@pytest.mark.django_db
def test_the_admin_shows_a_users_storage_and_adds_no_file_past_it(client, user):
    from accounts.models import User

    client.force_login(User.objects.create_superuser(email="root@example.com", password="Admin-pass-1"))
    Plan.objects.filter(slug="free").update(storage_limit_bytes=3 * MIB)

    def add(size: int):
        upload = SimpleUploadedFile("notes.txt", b"d" * size, content_type="text/plain")
        form = {"owner": user.pk, "kind": "file", "title": "", "url": "", "content": "", "tag_names": ""}
        return client.post("/admin/collector/item/add/", {**form, "file": upload})

    assert add(2 * MIB).status_code == 302
    refused = add(2 * MIB)
    assert refused.status_code == 200  # the form again, saying why
    assert b"does not fit in your plan&#x27;s storage: 2 MiB of 3 MiB used" in refused.content
    assert Item.objects.filter(owner=user).count() == 1
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert b"2 MiB of 3 MiB used by files" in page.content


@pytest.mark.django_db
def test_a_corrupt_zip_member_ends_the_import_failed_saying_so(user_client, upload):
    data = bytearray(_zip({"conversations.json": gpt.as_json(gpt.export())}))
    compressed_start = data.index(b"conversations.json") + len("conversations.json")
    data[compressed_start + 20] ^= 0xFF  # inside the deflated bytes: a bad block or a bad CRC
    done = _done(user_client, upload(user_client, bytes(data), name="export.zip"))
    assert done["status"] == "failed"
    assert done["error"].startswith("conversations.json"), done["error"]
    assert "internal error" not in done["error"]
