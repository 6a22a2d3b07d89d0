"""GET /conversations/{id}/export?format=json|markdown, and our JSON coming back through POST /imports."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from conversations.models import Conversation, Message, MessageStatus
from portability.models import Import
from tests.conversations.factories import ConversationFactory, LLMModelFactory

from .conftest import IMPORTS

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)


def export_url(conversation, fmt=None):
    url = f"/api/v1/conversations/{conversation.pk}/export"
    return f"{url}?format={fmt}" if fmt else url


@pytest.fixture
def conversation(user):
    model = LLMModelFactory(slug="house-model", display_name="House model")
    conversation = ConversationFactory(
        owner=user, title='Grüße, 東京 / "plans"', model=model, system_prompt="Answer in German.", pinned=True
    )
    rows = [  # (role, content, status, the position of its parent)
        ("user", "Wie sagt man Grüße in 東京?", MessageStatus.COMPLETE, None),
        ("assistant", "First draft", MessageStatus.COMPLETE, 0),  # regenerated: the other version
        ("assistant", "Man sagt こんにちは.", MessageStatus.COMPLETE, 0),
        ("user", "Und **danke**?", MessageStatus.COMPLETE, 2),
        ("assistant", "ありがとう — cut off", MessageStatus.STOPPED, 3),
    ]
    made = _tree(conversation, rows, model=model)
    Conversation.objects.filter(pk=conversation.pk).update(
        created_at=START, updated_at=START + timedelta(minutes=5), current_message=made[-1]
    )
    conversation.refresh_from_db()
    return conversation


def _tree(conversation, rows, *, model=None) -> list[Message]:
    """``rows`` (role, content, status, parent position) as messages a second apart from START."""
    made: list[Message] = []
    for index, (role, content, status, parent) in enumerate(rows):
        parent_row = made[parent] if parent is not None else None
        made.append(
            Message.objects.create(
                conversation=conversation,
                parent=parent_row,
                depth=parent_row.depth + 1 if parent_row else 0,
                role=role,
                content=content,
                status=status,
                model=model if role == "assistant" else None,
                finish_reason="stop" if role == "assistant" else "",
                created_at=START + timedelta(seconds=index),
            )
        )
    return made


def test_json_export_is_our_versioned_document_as_an_attachment(user_client, conversation):
    response = user_client.get(export_url(conversation, "json"))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    # A safe name: the title slugified (no quotes, slashes or spaces), non-ASCII encoded (RFC 5987).
    assert "filename*=utf-8''gr%C3%BC%C3%9Fe-%E6%9D%B1%E4%BA%AC-plans-" in disposition
    assert disposition.endswith(f"{str(conversation.pk)[:8]}.json")
    assert response["X-Content-Type-Options"] == "nosniff"

    document = json.loads(response.content)
    assert document["format"] == "chat-server.conversation"
    assert document["version"] == 1
    assert document["id"] == str(conversation.pk)
    assert document["title"] == conversation.title
    assert document["created_at"] == "2026-03-01T09:00:00.123456Z"
    assert document["updated_at"] == "2026-03-01T09:05:00.123456Z"
    assert (document["model"], document["system_prompt"], document["pinned"], document["archived"]) == (
        "house-model",
        "Answer in German.",
        True,
        False,
    )
    # The whole tree, in time order (a parent before its children): the first draft is the other
    # version of the reply, with the same parent.
    messages = list(conversation.messages.order_by("created_at", "id"))
    ids = [str(m.pk) for m in messages]
    assert [(m["id"], m["role"], m["content"], m["status"]) for m in document["messages"]] == [
        (ids[0], "user", "Wie sagt man Grüße in 東京?", "complete"),
        (ids[1], "assistant", "First draft", "complete"),
        (ids[2], "assistant", "Man sagt こんにちは.", "complete"),
        (ids[3], "user", "Und **danke**?", "complete"),
        (ids[4], "assistant", "ありがとう — cut off", "stopped"),
    ]
    assert [m["parent_id"] for m in document["messages"]] == [None, ids[0], ids[0], ids[2], ids[3]]
    assert document["current_message_id"] == ids[4]
    assert document["messages"][2] == {
        "id": ids[2],
        "parent_id": ids[0],
        "role": "assistant",
        "content": "Man sagt こんにちは.",
        "created_at": "2026-03-01T09:00:02.123456Z",
        "status": "complete",
        "model": "house-model",
        "finish_reason": "stop",
        "attachments": [],
        "sources": [],
        "tool_calls": [],
        "notices": [],
    }


def test_json_is_the_default_format(user_client, conversation):
    response = user_client.get(export_url(conversation))
    assert response.status_code == 200
    assert json.loads(response.content)["format"] == "chat-server.conversation"


def test_markdown_export_is_a_transcript(user_client, conversation):
    response = user_client.get(export_url(conversation, "markdown"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"].endswith(".md")
    text = response.content.decode()
    assert text.startswith('# Grüße, 東京 / "plans"\n')
    assert "model House model" in text
    assert "> Answer in German." in text
    assert "### You · 2026-03-01 09:00 UTC\n\nWie sagt man Grüße in 東京?" in text
    assert "### Assistant · 2026-03-01 09:00 UTC (stopped)\n\nありがとう — cut off" in text
    # The active path only: the other version of the first reply is not in it.
    assert "First draft" not in text
    assert text.count("### ") == 4


def test_markdown_export_follows_the_version_being_read(user_client, conversation):
    first_draft = conversation.messages.get(content="First draft")
    response = user_client.patch(
        f"/api/v1/conversations/{conversation.pk}", {"current_message_id": str(first_draft.pk)}, format="json"
    )
    assert response.status_code == 200, response.content
    text = user_client.get(export_url(conversation, "markdown")).content.decode()
    assert "First draft" in text
    assert "Man sagt" not in text and "danke" not in text
    # The JSON still holds every version, and names the one being read.
    document = json.loads(user_client.get(export_url(conversation, "json")).content)
    assert len(document["messages"]) == 5
    assert document["current_message_id"] == str(first_draft.pk)


def test_a_korean_reader_in_seoul_gets_the_transcript_in_korean_with_seoul_times(
    user_client, user, conversation, settings
):
    from django.utils import timezone, translation

    from accounts.models import UserSettings

    UserSettings.objects.filter(user=user).update(language="ko", time_zone="Asia/Seoul")
    text = user_client.get(export_url(conversation, "markdown")).content.decode()
    assert "모델 House model" in text
    assert "**시스템 프롬프트:**" in text
    # 09:00 UTC is 18:00 in Seoul, and the zone is named.
    assert "### 나 · 2026-03-01 18:00 KST\n\nWie sagt man Grüße in 東京?" in text
    assert "### 어시스턴트 · 2026-03-01 18:00 KST (중지됨)\n\nありがとう — cut off" in text
    assert "UTC" not in text and "You ·" not in text
    translation.activate(settings.LANGUAGE_CODE)  # the request's language stays active in this thread
    timezone.deactivate()


def test_the_format_parameter_is_ours_not_drfs_and_accept_does_not_matter(user_client, conversation):
    # DRF would read ?format= as a renderer name and answer 404; here it is the export's parameter.
    response = user_client.get(export_url(conversation, "markdown"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    response = user_client.get(export_url(conversation, "json"), HTTP_ACCEPT="text/html")
    assert response.status_code == 200


def test_an_unknown_format_is_a_400_naming_it(user_client, conversation):
    response = user_client.get(export_url(conversation, "xml"))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"format": ['"xml" is not a valid choice.']}
    # Empty is not "not given": the schema says at least one character.
    assert user_client.get(export_url(conversation) + "?format=").json() == {"format": ['"" is not a valid choice.']}


def test_the_schema_still_answers_json_with_its_format_parameter(api_client):
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/api/v1/conversations/{id}/export" in response.json()["paths"]


def test_another_users_conversation_is_a_404(outsider_client, user_client, conversation):
    assert outsider_client.get(export_url(conversation, "json")).status_code == 404
    assert outsider_client.get(export_url(conversation, "markdown")).status_code == 404
    missing = "/api/v1/conversations/00000000-0000-4000-8000-000000000000/export"
    assert user_client.get(missing).status_code == 404
    assert outsider_client.get(export_url(conversation)).json()["code"] == "not_found"


def test_export_needs_a_signed_in_user(api_client, conversation):
    assert api_client.get(export_url(conversation)).status_code == 401


def _shape(conversation) -> tuple:
    """The conversation as a tree, its messages named by their place in time order."""
    conversation.refresh_from_db()
    messages = list(conversation.messages.order_by("created_at", "id"))
    place = {m.pk: index for index, m in enumerate(messages)}
    return (
        conversation.title,
        conversation.created_at,
        conversation.updated_at,
        conversation.system_prompt,
        conversation.pinned,
        conversation.archived,
        [
            (m.role, m.content, m.status, m.created_at, m.finish_reason, place.get(m.parent_id), m.depth)
            for m in messages
        ],
        place.get(conversation.current_message_id),
    )


def _by_place(document: dict) -> dict:
    """A document with its ids replaced by the place of the message named (and no export id or time)."""
    place = {m["id"]: index for index, m in enumerate(document["messages"])}
    return {
        **{key: value for key, value in document.items() if key not in ("id", "exported_at")},
        "current_message_id": place.get(document["current_message_id"]),
        "messages": [{**m, "id": place[m["id"]], "parent_id": place.get(m["parent_id"])} for m in document["messages"]],
    }


def test_round_trip_export_then_import_gives_the_same_conversation(
    user_client, outsider_client, outsider, user, conversation, upload
):
    exported = user_client.get(export_url(conversation, "json")).content
    original = _shape(conversation)

    # Into another account: a new conversation with the same title, messages, roles, order and times.
    body = upload(outsider_client, exported, name="conversation.json").json()
    done = outsider_client.get(f"{IMPORTS}/{body['id']}").json()
    assert done["status"] == "done", done
    assert done["source_format"] == "chat-server"
    assert (done["conversations_imported"], done["messages_imported"]) == (1, 5)
    copy = Conversation.objects.get(owner=outsider)
    assert copy.pk != conversation.pk
    assert _shape(copy) == original
    assert copy.model.slug == "house-model"
    assert [m.model.slug if m.model else None for m in copy.messages.order_by("created_at")] == [
        None,
        "house-model",
        "house-model",
        None,
        "house-model",
    ]

    # Into the same account while the original is there: nothing to do.
    again = upload(user_client, exported).json()
    assert user_client.get(f"{IMPORTS}/{again['id']}").json()["conversations_skipped"] == 1
    assert Conversation.objects.filter(owner=user).count() == 1

    # After it was deleted: it comes back as it was.
    user_client.delete(f"/api/v1/conversations/{conversation.pk}")
    restored = upload(user_client, exported).json()
    assert user_client.get(f"{IMPORTS}/{restored['id']}").json()["conversations_imported"] == 1
    assert _shape(Conversation.objects.get(owner=user)) == original

    # And the copy exports to the same document (but for the ids and the export time).
    second = json.loads(outsider_client.get(export_url(copy, "json")).content)
    assert _by_place(second) == _by_place(json.loads(exported))


def test_a_list_of_our_documents_and_a_bundle_are_imported(
    user_client, outsider_client, outsider, conversation, upload
):
    document = json.loads(user_client.get(export_url(conversation)).content)
    other = {**document, "id": "00000000-0000-4000-8000-0000000000aa", "title": "Second", "messages": []}
    body = upload(outsider_client, json.dumps([document, other]).encode()).json()
    done = Import.objects.get(pk=body["id"])
    # Our documents come in even without messages (nothing in them is "hidden").
    assert (done.conversations_imported, done.messages_imported) == (2, 5)
    bundle = {
        "format": "chat-server.conversations",
        "version": 1,
        "conversations": [{**other, "id": "x", "title": "Third"}],
    }
    body = upload(outsider_client, json.dumps(bundle).encode()).json()
    assert Import.objects.get(pk=body["id"]).conversations_imported == 1
    assert set(Conversation.objects.filter(owner=outsider).values_list("title", flat=True)) == {
        conversation.title,
        "Second",
        "Third",
    }


def test_a_newer_version_or_a_bad_document_is_reported(user_client, outsider_client, conversation, upload):
    document = json.loads(user_client.get(export_url(conversation)).content)
    newer = {**document, "version": 2}
    bad_role = {**document, "id": "y", "messages": [{"role": "wizard", "content": "x"}]}
    body = upload(outsider_client, json.dumps([newer, bad_role]).encode()).json()
    errors = outsider_client.get(f"{IMPORTS}/{body['id']}").json()["errors"]
    assert [error["error"] for error in errors] == [
        "version 2 of chat-server.conversation is newer than this server reads (1)",
        "message 0 has an unknown role 'wizard'",
    ]
    newer_bundle = {"format": "chat-server.conversations", "version": 9, "conversations": []}
    body = upload(outsider_client, json.dumps(newer_bundle).encode()).json()
    failed = outsider_client.get(f"{IMPORTS}/{body['id']}").json()
    assert failed["status"] == "failed"
    assert "newer than this server reads" in failed["error"]


# --- what issue 20 added: a user message's files, a reply's sources ------------------------------


@pytest.fixture
def with_files(user, conversation, django_capture_on_commit_callbacks):
    """The first question holds two files; the first reply names three sources."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from files import services as files_services

    with django_capture_on_commit_callbacks(execute=True):
        notes = files_services.file_create(
            owner=user, upload=SimpleUploadedFile("Notizen *1*.txt", b"Treffen: Dienstag")
        )
        table = files_services.file_create(owner=user, upload=SimpleUploadedFile("plan.csv", b"day,place\n1,Asakusa\n"))
    question = conversation.messages.get(content="Wie sagt man Grüße in 東京?")
    question.attachments.add(notes, table)
    reply = conversation.messages.get(content="Man sagt こんにちは.")
    reply.sources = [
        {"n": 1, "kind": "file", "id": str(notes.pk), "title": "Notizen *1*.txt", "snippet": "Treffen", "page": 2},
        {"n": 2, "kind": "item", "id": "41", "title": "Packliste\n# not a heading", "snippet": "Socken", "page": None},
    ]
    reply.save(update_fields=["sources"])
    return {"notes": notes, "table": table, "question": question, "reply": reply}


def test_json_export_carries_attachments_and_sources(user_client, conversation, with_files):
    document = json.loads(user_client.get(export_url(conversation, "json")).content)
    assert document["version"] == 1  # added fields, not a new version: older readers ignore them
    question, reply = document["messages"][0], document["messages"][2]
    notes, table = with_files["notes"], with_files["table"]
    assert question["attachments"] == [
        {"id": str(notes.pk), "name": "Notizen *1*.txt", "content_type": "text/plain", "size": notes.size},
        {"id": str(table.pk), "name": "plan.csv", "content_type": "text/csv", "size": table.size},
    ]
    assert question["sources"] == []
    assert reply["attachments"] == []
    assert reply["sources"] == with_files["reply"].sources


def test_markdown_export_lists_files_and_numbered_sources(user_client, conversation, with_files):
    text = user_client.get(export_url(conversation, "markdown")).content.decode()
    # Under the question: its files, by name (Markdown's own characters escaped).
    assert "Wie sagt man Grüße in 東京?\n\n*Attached:* Notizen \\*1\\*.txt, plan.csv\n" in text
    # Under the reply: its sources, numbered as the reply cites them; a title's line break cannot
    # make a heading.
    assert (
        "Man sagt こんにちは.\n\n*Sources:*\n\n1. Notizen \\*1\\*.txt (page 2)\n2. Packliste \\# not a heading\n"
        in text
    )
    assert text.count("*Attached:*") == 1 and text.count("*Sources:*") == 1


def test_a_document_imported_alone_keeps_sources_as_text_and_drops_foreign_ids(
    user_client, outsider_client, outsider, conversation, with_files, upload
):
    exported = user_client.get(export_url(conversation, "json")).content
    body = upload(outsider_client, exported, name="conversation.json").json()
    done = outsider_client.get(f"{IMPORTS}/{body['id']}").json()
    assert (done["status"], done["errors"], done["conversations_imported"]) == ("done", [], 1)
    copy = Conversation.objects.get(owner=outsider)
    question = copy.messages.get(content="Wie sagt man Grüße in 東京?")
    reply = copy.messages.get(content="Man sagt こんにちは.")
    # A lone document has no file bytes: the attachments cannot come; the sources' text does, their
    # ids (files and items of the other account) do not.
    assert list(question.attachments.all()) == []
    assert reply.sources == [{**source, "id": None} for source in with_files["reply"].sources]
    shown = outsider_client.get(f"/api/v1/conversations/{copy.pk}/messages").json()
    shown = shown.get("results", shown)
    assert [source["id"] for m in shown if m["role"] == "assistant" for source in m["sources"]] == [None, None]


def test_a_document_from_before_files_still_imports(outsider_client, outsider, upload):
    old = {
        "format": "chat-server.conversation",
        "version": 1,
        "id": "00000000-0000-4000-8000-0000000000bb",
        "title": "Before files",
        "messages": [
            {"role": "user", "content": "Hallo", "status": "complete", "model": None, "superseded": False},
            {"role": "assistant", "content": "Hi", "status": "complete", "model": None, "finish_reason": "stop"},
        ],
    }
    body = upload(outsider_client, json.dumps(old).encode()).json()
    assert Import.objects.get(pk=body["id"]).conversations_imported == 1
    copy = Conversation.objects.get(owner=outsider)
    assert [(m.content, m.sources, list(m.attachments.all())) for m in copy.messages.order_by("created_at")] == [
        ("Hallo", [], []),
        ("Hi", [], []),
    ]


def test_malformed_sources_or_attachments_are_that_conversations_error(
    user_client, outsider_client, conversation, upload
):
    document = json.loads(user_client.get(export_url(conversation)).content)
    bad_sources = {**document, "id": "s", "messages": [{"role": "assistant", "content": "x", "sources": "[1]"}]}
    bad_files = {**document, "id": "f", "messages": [{"role": "user", "content": "x", "attachments": [{"name": "a"}]}]}
    body = upload(outsider_client, json.dumps([bad_sources, bad_files, document]).encode()).json()
    done = outsider_client.get(f"{IMPORTS}/{body['id']}").json()
    assert [error["error"] for error in done["errors"]] == [
        "message 0's sources must be a list",
        "message 0 has an attachment without an id",
    ]
    assert done["conversations_imported"] == 1
