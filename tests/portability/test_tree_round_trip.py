"""A conversation's tree through our JSON and back (issue 22): every version of every turn, the same
parents and the same current message; older documents (a line with ``superseded`` turns) and
documents whose parents are broken come in as trees too, never lost."""

import json
import uuid

import pytest

from conversations.models import Conversation, MessageStatus
from tests.conversations.factories import ConversationFactory, LLMModelFactory

from .conftest import IMPORTS
from .test_conversation_export import _by_place, _shape, _tree, export_url

pytestmark = pytest.mark.django_db

C, S, E = MessageStatus.COMPLETE, MessageStatus.STOPPED, MessageStatus.ERROR


@pytest.fixture
def branched(user, user_client):
    """Ten messages: a regenerated reply, an edited second question, an edited first question; the
    user then went back to the second question's first version (not the newest branch)."""
    model = LLMModelFactory(slug="tree-model")
    conversation = ConversationFactory(owner=user, title="Versions", model=model)
    rows = [
        ("user", "Q1", C, None),  # 0
        ("assistant", "A1 first try", E, 0),  # 1, failed: regenerated
        ("assistant", "A1 regenerated", C, 0),  # 2
        ("user", "Q2", C, 2),  # 3
        ("assistant", "A2", C, 3),  # 4
        ("user", "Q2 edited", C, 2),  # 5
        ("assistant", "A2 after the edit", S, 5),  # 6
        ("user", "Q1 edited", C, None),  # 7: a new first message
        ("assistant", "A1 after the edit", C, 7),  # 8
        ("user", "Q3 on the edited branch", C, 8),  # 9
    ]
    made = _tree(conversation, rows, model=model)
    Conversation.objects.filter(pk=conversation.pk).update(current_message=made[-1])
    # Back to the second question's first version, through the API.
    response = user_client.patch(
        f"/api/v1/conversations/{conversation.pk}", {"current_message_id": str(made[3].pk)}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["current_message_id"] == str(made[4].pk)
    conversation.refresh_from_db()
    return conversation, made


def _shown(client, conversation) -> list[dict]:
    body = client.get(f"/api/v1/conversations/{conversation.pk}/messages").json()
    return body.get("results", body)


def _import(client, upload, data: bytes) -> dict:
    body = upload(client, data, name="conversation.json").json()
    done = client.get(f"{IMPORTS}/{body['id']}").json()
    assert done["status"] == "done", done
    return done


def test_a_tree_exports_whole_and_imports_back_the_same(user_client, outsider_client, outsider, branched, upload):
    conversation, made = branched
    exported = user_client.get(export_url(conversation, "json")).content
    document = json.loads(exported)
    place = {str(m.pk): index for index, m in enumerate(made)}
    assert [place[m["id"]] for m in document["messages"]] == list(range(10))
    assert [None if m["parent_id"] is None else place[m["parent_id"]] for m in document["messages"]] == [
        None,
        0,
        0,
        2,
        3,
        2,
        5,
        None,
        7,
        8,
    ]
    assert document["current_message_id"] == str(made[4].pk)

    done = _import(outsider_client, upload, exported)
    assert (done["conversations_imported"], done["messages_imported"], done["errors"]) == (1, 10, [])
    copy = Conversation.objects.get(owner=outsider)
    # Same parents (by place), texts, statuses, times, depths and current message.
    assert _shape(copy) == _shape(conversation)

    # What the owner reads is the same path, each turn with the same versions.
    original, imported = _shown(user_client, conversation), _shown(outsider_client, copy)
    assert [m["content"] for m in imported] == ["Q1", "A1 regenerated", "Q2", "A2"]
    assert [m["content"] for m in imported] == [m["content"] for m in original]
    copied_place = {m.pk: index for index, m in enumerate(copy.messages.order_by("created_at", "id"))}
    for before, after in zip(original, imported, strict=True):
        assert [place[i] for i in before["sibling_ids"]] == [copied_place[_uuid(i)] for i in after["sibling_ids"]]
    assert [len(m["sibling_ids"]) for m in imported] == [2, 2, 2, 1]

    # And the copy exports to the same document, but for its ids.
    again = json.loads(outsider_client.get(export_url(copy, "json")).content)
    assert _by_place(again) == _by_place(document)


def _uuid(value: str):
    return uuid.UUID(value)


def test_markdown_is_the_path_being_read(user_client, branched):
    conversation, _made = branched
    text = user_client.get(export_url(conversation, "markdown")).content.decode()
    for shown in ("Q1", "A1 regenerated", "Q2", "A2"):
        assert f"\n\n{shown}\n" in text
    for hidden in ("A1 first try", "Q2 edited", "A2 after the edit", "Q1 edited", "A1 after", "Q3"):
        assert hidden not in text


def _old_document(messages: list[dict]) -> bytes:
    return json.dumps(
        {
            "format": "chat-server.conversation",
            "version": 1,
            "id": "00000000-0000-4000-8000-0000000000cc",
            "title": "From before trees",
            "messages": [{"status": "complete", "model": None, "finish_reason": "", **m} for m in messages],
        }
    ).encode()


def test_an_older_document_with_superseded_turns_comes_in_as_the_tree_they_stood_for(outsider_client, outsider, upload):
    # Before trees: a regenerate marked the question and its reply superseded and repeated the
    # question with a new reply; an edit did the same with a new text.
    data = _old_document(
        [
            {"role": "user", "content": "Q1", "superseded": True, "created_at": "2026-01-01T10:00:00Z"},
            {"role": "assistant", "content": "A1", "superseded": True, "created_at": "2026-01-01T10:00:01Z"},
            {"role": "user", "content": "Q1", "created_at": "2026-01-01T10:00:02Z"},
            {"role": "assistant", "content": "A1 again", "created_at": "2026-01-01T10:00:03Z"},
            {"role": "user", "content": "Q2", "superseded": True, "created_at": "2026-01-01T10:00:04Z"},
            {"role": "assistant", "content": "A2", "superseded": True, "created_at": "2026-01-01T10:00:05Z"},
            {"role": "user", "content": "Q2 edited", "created_at": "2026-01-01T10:00:06Z"},
            {"role": "assistant", "content": "A2 after the edit", "created_at": "2026-01-01T10:00:07Z"},
        ]
    )
    done = _import(outsider_client, upload, data)
    assert (done["conversations_imported"], done["messages_imported"], done["errors"]) == (1, 8, [])
    copy = Conversation.objects.get(owner=outsider)
    messages = list(copy.messages.order_by("created_at", "id"))
    place = {m.pk: index for index, m in enumerate(messages)}
    assert [m.content for m in messages] == ["Q1", "A1", "Q1", "A1 again", "Q2", "A2", "Q2 edited", "A2 after the edit"]
    # The repeated question is a sibling of the first; the edited one a sibling of Q2.
    assert [place.get(m.parent_id) for m in messages] == [None, 0, None, 2, 3, 4, 3, 6]
    assert copy.current_message.content == "A2 after the edit"
    shown = _shown(outsider_client, copy)
    assert [m["content"] for m in shown] == ["Q1", "A1 again", "Q2 edited", "A2 after the edit"]
    assert [len(m["sibling_ids"]) for m in shown] == [2, 1, 2, 1]


def test_an_older_document_without_superseded_turns_is_a_line(outsider_client, outsider, upload):
    data = _old_document([{"role": "user", "content": "Hallo"}, {"role": "assistant", "content": "Hi"}])
    _import(outsider_client, upload, data)
    question, reply = Conversation.objects.get(owner=outsider).messages.order_by("created_at")
    assert (question.parent_id, reply.parent_id) == (None, question.pk)
    assert Conversation.objects.get(owner=outsider).current_message_id == reply.pk


def test_a_parent_that_names_no_earlier_message_makes_a_first_message(outsider_client, outsider, upload):
    ids = [f"00000000-0000-4000-8000-00000000010{n}" for n in range(5)]
    messages = [
        {"id": ids[0], "parent_id": None, "role": "user", "content": "Q1"},
        {"id": ids[1], "parent_id": ids[0], "role": "assistant", "content": "A1"},
        # Names a message that is not in the document.
        {"id": ids[2], "parent_id": "00000000-0000-4000-8000-000000000999", "role": "user", "content": "Lost"},
        # Names a message that comes after it.
        {"id": ids[3], "parent_id": ids[4], "role": "assistant", "content": "Early"},
        {"id": ids[4], "parent_id": ids[1], "role": "user", "content": "Q2"},
        # No id, and a parent of a type no id has.
        {"parent_id": 4.5, "role": "assistant", "content": "No id"},
    ]
    data = json.dumps(
        {
            "format": "chat-server.conversation",
            "version": 1,
            "title": "Broken parents",
            "current_message_id": "not one of them",
            "messages": messages,
        }
    ).encode()
    done = _import(outsider_client, upload, data)
    assert (done["conversations_imported"], done["messages_imported"], done["errors"]) == (1, 6, [])
    copy = Conversation.objects.get(owner=outsider)
    rows = {m.content: m for m in copy.messages.all()}
    assert rows["A1"].parent_id == rows["Q1"].pk
    assert rows["Q2"].parent_id == rows["A1"].pk
    for root in ("Q1", "Lost", "Early", "No id"):
        assert (rows[root].parent_id, rows[root].depth) == (None, 0)
    # An unknown current message: the last one is current.
    assert copy.current_message_id == rows["No id"].pk
