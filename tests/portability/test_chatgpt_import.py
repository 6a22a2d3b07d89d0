"""Importing a ChatGPT data export through POST /imports: the whole tree, the branch the user saw
current, in order, with titles and times; broken conversations reported; the zip form; files that
are no export at all."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversations.models import Conversation, MessageStatus
from conversations.tree import active_path
from portability.models import Import, JobStatus

from . import chatgpt_export as gpt
from .conftest import IMPORTS

pytestmark = pytest.mark.django_db


def _messages(conversation):
    return list(conversation.messages.order_by("created_at", "id"))


def _path(conversation):
    """The active path, root first."""
    _skeleton, path = active_path(Conversation.objects.get(pk=conversation.pk))
    messages = {str(m.pk): m for m in conversation.messages.all()}
    return [messages[pk] for pk in path]


def test_the_tree_is_imported_the_current_branch_current_with_titles_and_times(user_client, user, upload):
    response = upload(user_client, gpt.as_json(gpt.export()))
    assert response.status_code == 202, response.content
    body = response.json()
    # The request only stored the file and queued the job.
    assert body["status"] == "queued"
    assert body["file_name"] == "conversations.json"

    done = user_client.get(f"{IMPORTS}/{body['id']}").json()
    assert done["status"] == "done", done
    assert done["source_format"] == "chatgpt"
    assert done["conversations_total"] == 2
    assert done["conversations_imported"] == 2
    assert done["conversations_skipped"] == 0
    assert done["conversations_failed"] == 0
    assert done["messages_imported"] == 8
    assert done["errors"] == []
    assert done["finished_at"] is not None

    trip = Conversation.objects.get(owner=user, title="Grüße, 東京")
    assert trip.created_at == gpt.at(0)
    assert trip.updated_at == gpt.at(60)
    assert trip.origin_kind == ""  # an ordinary conversation of the user's
    messages = _path(trip)
    assert [(m.role, m.content) for m in messages] == [
        ("user", "Wie sagt man Grüße in 東京?"),
        # The regenerated reply (current_node's branch), not the first try.
        ("assistant", "Man sagt „こんにちは“ — Grüße, 東京!"),
        # The image part is left out, the text part kept.
        ("user", "Und was steht auf diesem Schild?"),
        # The empty node and the tool's output are skipped.
        ("assistant", "Da steht „出口“: Ausgang."),
    ]
    assert [m.created_at for m in messages] == [gpt.at(10), gpt.at(30), gpt.at(40), gpt.at(50)]
    assert {m.status for m in messages} == {MessageStatus.COMPLETE}
    # The first try is kept too, as the other version of the reply.
    first_try = trip.messages.get(content="First try: こんにちは.")
    assert (first_try.parent_id, first_try.created_at) == (messages[0].pk, gpt.at(20))
    assert messages[1].parent_id == messages[0].pk
    assert trip.current_message_id == messages[-1].pk

    recipe = Conversation.objects.get(owner=user, title="Pancakes")
    assert (recipe.created_at, recipe.updated_at) == (gpt.at(100), gpt.at(130))
    assert [(m.role, m.content) for m in _messages(recipe)] == [
        # The hidden custom instructions are not part of it.
        ("user", "A quick pancake recipe?"),
        ("assistant", "```python\nprint(2 * 100)\n```"),
        ("assistant", "Flour, milk, eggs: whisk and fry."),
    ]

    # They are the user's conversations like any other: listed, readable through the API.
    listed = user_client.get("/api/v1/conversations").json()["results"]
    assert {row["title"] for row in listed} == {"Grüße, 東京", "Pancakes"}
    page = user_client.get(f"/api/v1/conversations/{trip.pk}/messages").json()["results"]
    assert [row["role"] for row in page] == ["user", "assistant", "user", "assistant"]


def test_regenerated_and_edited_versions_are_kept_with_current_node_current(user_client, user, upload):
    done = user_client.get(f"{IMPORTS}/{upload(user_client, gpt.as_json([gpt.versions_conversation()])).json()['id']}")
    done = done.json()
    assert (done["status"], done["conversations_imported"], done["messages_imported"]) == ("done", 1, 7)
    conversation = Conversation.objects.get(owner=user, title="Han River")

    # What the user reads: exactly current_node's branch (current_node itself, an empty node, is
    # left out: its nearest kept ancestor is current).
    page = user_client.get(f"/api/v1/conversations/{conversation.pk}/messages").json()["results"]
    assert [(m["role"], m["content"]) for m in page] == [
        ("user", "Name a river in Seoul."),
        ("assistant", "The Han River (한강)."),
        ("user", "How long is it?"),
        ("assistant", "About 494 km."),  # under u2: the tool node between them is left out
    ]
    assert user_client.get(f"/api/v1/conversations/{conversation.pk}").json()["current_message_id"] == page[-1]["id"]

    # Every version, oldest first, in sibling_ids.
    rows = {m.content: str(m.pk) for m in conversation.messages.all()}
    assert [m["sibling_ids"] for m in page] == [
        [rows["Name a river in Seoul."]],
        [rows["The Han."], rows["The Han River (한강)."]],
        [rows["How long is it?"], rows["How wide is it?"]],
        [rows["About 494 km."]],
    ]
    assert [m["parent_id"] for m in page] == [None, page[0]["id"], page[1]["id"], page[2]["id"]]
    edited = conversation.messages.get(content="How wide is it?")
    assert str(edited.parent_id) == page[1]["id"]
    assert conversation.messages.get(content="Up to about 1 km.").parent_id == edited.pk
    times = {m.content: m.created_at for m in conversation.messages.all()}
    assert (times["The Han."], times["Up to about 1 km."]) == (gpt.at(210), gpt.at(260))

    # The newer edit is a step away: switching to it shows its branch.
    response = user_client.patch(
        f"/api/v1/conversations/{conversation.pk}", {"current_message_id": str(edited.pk)}, format="json"
    )
    assert response.status_code == 200, response.content
    page = user_client.get(f"/api/v1/conversations/{conversation.pk}/messages").json()["results"]
    assert [m["content"] for m in page][2:] == ["How wide is it?", "Up to about 1 km."]


def test_a_broken_conversation_is_reported_and_the_others_are_imported(user_client, user, upload):
    broken_tree = gpt.recipe_conversation()
    broken_tree["title"] = "Loop"
    broken_tree["id"] = "loop"
    broken_tree["mapping"]["root"]["parent"] = "r"  # the tree loops back on itself
    data = [gpt.trip_conversation(), {"title": "Broken", "mapping": "not a tree"}, 42, broken_tree]
    data.append(gpt.recipe_conversation())
    body = upload(user_client, gpt.as_json(data)).json()

    done = user_client.get(f"{IMPORTS}/{body['id']}").json()
    assert done["status"] == "done"
    assert (done["conversations_total"], done["conversations_imported"], done["conversations_failed"]) == (5, 2, 3)
    assert done["errors"] == [
        {
            "kind": "conversation",
            "index": 1,
            "title": "Broken",
            "error": "the conversation has no 'mapping' (its message tree)",
        },
        {"kind": "conversation", "index": 2, "title": "", "error": "a conversation must be an object, not int"},
        {"kind": "conversation", "index": 3, "title": "Loop", "error": "the message tree has a loop"},
    ]
    assert set(Conversation.objects.filter(owner=user).values_list("title", flat=True)) == {"Grüße, 東京", "Pancakes"}


def test_a_bad_time_fails_only_its_conversation(user_client, user, upload):
    bad = gpt.recipe_conversation()
    bad["mapping"]["q"]["message"]["create_time"] = "yesterday"
    body = upload(user_client, gpt.as_json([gpt.trip_conversation(), bad])).json()
    done = Import.objects.get(pk=body["id"])
    assert (done.conversations_imported, done.conversations_failed) == (1, 1)
    assert "create_time" in done.errors[0]["error"]
    # Nothing of the failed conversation is left behind (each one is a transaction of its own).
    assert list(Conversation.objects.filter(owner=user).values_list("title", flat=True)) == ["Grüße, 東京"]


def test_the_export_zip_is_read_as_downloaded(user_client, user, upload):
    body = upload(user_client, gpt.as_zip(gpt.export()), name="chatgpt-export.zip").json()
    done = user_client.get(f"{IMPORTS}/{body['id']}").json()
    assert done["status"] == "done", done
    assert (done["conversations_imported"], done["messages_imported"]) == (2, 8)
    assert Conversation.objects.filter(owner=user).count() == 2


def test_a_zip_with_conversations_json_in_a_folder_is_read(user_client, upload):
    body = upload(user_client, gpt.as_zip(gpt.export(), name="export-2024/conversations.json"), name="x.zip").json()
    assert user_client.get(f"{IMPORTS}/{body['id']}").json()["conversations_imported"] == 2


def test_importing_the_same_export_again_skips_what_is_already_there(user_client, user, upload):
    upload(user_client, gpt.as_json(gpt.export()))
    again = upload(user_client, gpt.as_zip(gpt.export())).json()
    done = user_client.get(f"{IMPORTS}/{again['id']}").json()
    assert (done["conversations_imported"], done["conversations_skipped"], done["messages_imported"]) == (0, 2, 0)
    assert Conversation.objects.filter(owner=user).count() == 2


def test_a_conversation_with_nothing_visible_is_skipped_and_untitled_ones_get_a_title(user_client, user, upload):
    only_hidden = gpt.recipe_conversation()
    only_hidden["mapping"] = {key: only_hidden["mapping"][key] for key in ("root", "ctx")}
    only_hidden["mapping"]["ctx"]["children"] = []
    only_hidden["current_node"] = "ctx"
    only_hidden["id"] = "hidden-only"
    untitled = gpt.recipe_conversation()
    untitled["title"] = None
    untitled["current_node"] = "missing-node"  # falls back to the last message
    body = upload(user_client, gpt.as_json([only_hidden, untitled])).json()
    done = user_client.get(f"{IMPORTS}/{body['id']}").json()
    assert (done["conversations_imported"], done["conversations_skipped"]) == (1, 1)
    conversation = Conversation.objects.get(owner=user)
    assert conversation.title == "A quick pancake recipe?"
    assert conversation.messages.count() == 3
    assert conversation.current_message.content == "Flour, milk, eggs: whisk and fry."


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "conversations.json", "The submitted file is empty."),
        (b"hello, not json", "conversations.json", "The file is not JSON (nor a zip)."),
        (b"\x89PNG\r\n\x1a\n....", "photo.png", "The file is not JSON (nor a zip)."),
        (gpt.as_zip([], name="other.json"), "export.zip", "The zip has no conversations.json."),
        (b"PK\x03\x04 broken", "export.zip", "The file is not a readable zip."),
    ],
)
def test_what_is_plainly_no_export_is_refused_at_upload(user_client, user, upload, data, name, message):
    response = upload(user_client, data, name=name)
    assert response.status_code == 400
    assert list(response.json()) == ["file"]
    assert response.json()["file"][0].startswith(message), response.json()
    assert not Import.objects.exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b'{"conversations": []}', "The file is a JSON object, not a list of conversations."),
        (b"[1, 2, 3]", "The file is a list, but none of its entries is a conversation."),
        (b'[{"title": "cut off', "The file is not valid JSON"),
        (b'"a string"', None),
    ],
)
def test_json_that_is_no_export_ends_the_import_failed(user_client, upload, data, error):
    if data.startswith(b'"'):
        # Not even an object or a list: told at upload.
        assert upload(user_client, data).status_code == 400
        return
    body = upload(user_client, data).json()
    done = user_client.get(f"{IMPORTS}/{body['id']}").json()
    assert done["status"] == "failed"
    assert done["error"].startswith(error), done["error"]
    assert done["conversations_imported"] == 0


def test_a_zip_whose_conversations_json_is_no_export_fails(user_client, upload):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("conversations.json", "not json at all")
    body = upload(user_client, buffer.getvalue(), name="export.zip").json()
    done = user_client.get(f"{IMPORTS}/{body['id']}").json()
    assert done["status"] == "failed"
    assert done["error"].startswith("conversations.json is not valid JSON")


def test_the_stored_upload_is_deleted_once_imported(user_client, upload, _media_root):
    body = upload(user_client, gpt.as_json(gpt.export())).json()
    row = Import.objects.get(pk=body["id"])
    assert row.status == JobStatus.DONE
    assert not row.file
    assert not any(path.is_file() for path in (_media_root / "imports").rglob("*"))


def test_uploads_over_the_limit_are_413(user_client, upload, settings):
    settings.PORTABILITY_MAX_IMPORT_BYTES = 100
    response = upload(user_client, gpt.as_json(gpt.export()))
    assert response.status_code == 413
    assert response.json()["code"] == "import_too_large"
    assert "the limit is 100 bytes" in response.json()["detail"]
    # Refused from the request's declared length too, before the body is read.
    settings.PORTABILITY_MAX_IMPORT_BYTES = 10
    big = user_client.post(IMPORTS, {"file": SimpleUploadedFile("c.json", b"[]" + b" " * 300_000)}, format="multipart")
    assert big.status_code == 413
    assert not Import.objects.exists()
    # Within the limit it is accepted.
    settings.PORTABILITY_MAX_IMPORT_BYTES = 10_000_000
    assert upload(user_client, gpt.as_json(gpt.export())).status_code == 202


def test_the_upload_must_be_multipart_with_a_file(user_client):
    assert user_client.post(IMPORTS, {"file": "x"}, format="json").status_code == 415
    missing = user_client.post(IMPORTS, {}, format="multipart")
    assert missing.status_code == 400
    assert "file" in missing.json()


def test_imports_are_listed_for_their_owner_only(user_client, outsider_client, upload):
    mine = upload(user_client, gpt.as_json(gpt.export())).json()
    theirs = upload(outsider_client, gpt.as_json([gpt.recipe_conversation()])).json()

    listed = user_client.get(IMPORTS).json()
    assert [row["id"] for row in listed["results"]] == [mine["id"]]
    assert user_client.get(f"{IMPORTS}/{theirs['id']}").status_code == 404
    assert outsider_client.get(f"{IMPORTS}/{mine['id']}").status_code == 404
    assert user_client.get(f"{IMPORTS}/not-a-uuid").status_code == 404


def test_imports_need_a_signed_in_user(api_client):
    assert api_client.get(IMPORTS).status_code == 401
    response = api_client.post(IMPORTS, {"file": SimpleUploadedFile("c.json", b"[]")}, format="multipart")
    assert response.status_code == 401


def test_counts_are_saved_as_the_import_goes(user, settings, tmp_path, monkeypatch):
    """The row's counts are the progress clients see: saved during the run, not only at its end."""
    from portability import importing, services

    monkeypatch.setattr(importing, "SAVE_EVERY_SECONDS", 0)
    seen = []
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(gpt.export()))

    def progress(done, total):
        row = Import.objects.get(owner=user)
        seen.append((done, total, row.status, row.conversations_imported))

    services.import_file(user=user, path=path, progress=progress)
    assert seen == [(1, 2, "running", 1), (2, 2, "running", 2)]


def test_a_job_handed_out_again_starts_over_and_a_finished_one_is_not_run(user):
    from portability import services

    row = services.import_start(user=user, upload=SimpleUploadedFile("c.json", gpt.as_json(gpt.export())))
    # As if a worker had claimed it, imported one conversation and died.
    assert services.import_run(import_id=row.pk) is not None
    Conversation.objects.filter(owner=user, title="Pancakes").delete()
    Import.objects.filter(pk=row.pk).update(status=JobStatus.RUNNING, conversations_imported=1, messages_imported=4)
    row.refresh_from_db()
    row.file.save("upload", io.BytesIO(gpt.as_json(gpt.export())), save=True)

    again = services.import_run(import_id=row.pk)
    assert (again.status, again.conversations_imported, again.conversations_skipped) == (JobStatus.DONE, 1, 1)
    assert Conversation.objects.filter(owner=user).count() == 2
    assert services.import_run(import_id=row.pk) is None


def test_at_most_three_imports_wait_per_user(user_client, outsider_client, user):
    from django.utils import timezone

    def post(client):  # the job is not run: no commit callbacks here
        return client.post(IMPORTS, {"file": SimpleUploadedFile("c.json", b"[]")}, format="multipart")

    assert [post(user_client).status_code for _ in range(3)] == [202, 202, 202]
    refused = post(user_client)
    assert refused.status_code == 409
    assert refused.json()["code"] == "too_many_imports"
    assert post(outsider_client).status_code == 202  # a limit per user
    # Finished ones, and any from before the last day (lost with a dead worker), do not count.
    first = Import.objects.filter(owner=user).order_by("created_at").first()
    Import.objects.filter(pk=first.pk).update(status=JobStatus.DONE)
    assert post(user_client).status_code == 202
    Import.objects.filter(owner=user, status=JobStatus.QUEUED).update(created_at=timezone.now() - timedelta(days=2))
    assert post(user_client).status_code == 202


def test_a_zip_with_someone_elses_manifest_is_still_a_chatgpt_export(user_client, upload):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", "not ours, not even JSON")
        archive.writestr("conversations.json", gpt.as_json(gpt.export()))
    body = upload(user_client, buffer.getvalue(), name="export.zip").json()
    done = user_client.get(f"{IMPORTS}/{body['id']}").json()
    assert (done["status"], done["source_format"], done["conversations_imported"]) == ("done", "chatgpt", 2)
