"""The conversations admin renders, and keeps what users own read-only (the console's actions: tests/console/)."""

import re
from unittest import mock

import pytest
from django.test import Client

from conversations.models import Conversation, LLMModel, Message, MessageStatus
from tests.accounts.factories import UserFactory
from tests.conversations.factories import (
    AssistantMessageFactory,
    ConversationFactory,
    FeedbackFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_web(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def some_rows(user):
    conversation = ConversationFactory(owner=user, title="Admin view")
    MessageFactory(conversation=conversation, content="question")
    reply = AssistantMessageFactory(conversation=conversation, content="answer", latency_ms=120)
    FeedbackFactory(message=reply, user=user, rating="down", comment="off topic")
    return conversation


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("llmmodel", {}),
        ("llmmodel", {"enabled__exact": "1", "q": "smol"}),
        ("prompt", {}),
        ("prompt", {"category": "coding"}),
        ("conversation", {}),
        ("conversation", {"q": "alice@example.com", "pinned__exact": "0", "archived__exact": "0"}),
        ("message", {}),
        ("message", {"status__exact": "complete", "role__exact": "assistant"}),
        ("message", {"q": "not-a-uuid"}),
        ("feedback", {}),
        ("feedback", {"rating__exact": "down", "q": "alice"}),
    ],
)
def test_changelists_render(admin_web, some_rows, model, params):
    response = admin_web.get(f"/admin/conversations/{model}/", params)
    assert response.status_code == 200


def test_conversation_changelist_shows_owner_and_annotated_message_count(admin_web, some_rows):
    page = admin_web.get("/admin/conversations/conversation/").content.decode()
    assert "alice@example.com" in page
    cell = re.search(r'<td[^>]*class="[^"]*field-message_count[^"]*"[^>]*>(.*?)</td>', page, re.S)
    assert cell is not None and cell.group(1).strip() == "2"


def test_conversation_changelist_queries_do_not_grow_with_rows(admin_web, user, some_rows):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_web.get("/admin/conversations/conversation/").status_code == 200
        return len(ctx.captured_queries)

    one = count()
    for _ in range(30):
        MessageFactory(conversation=ConversationFactory(owner=UserFactory()))
    assert count() == one


def test_change_pages_render(admin_web, some_rows):
    reply = some_rows.messages.get(role="assistant")
    assert admin_web.get(f"/admin/conversations/conversation/{some_rows.pk}/change/").status_code == 200
    assert admin_web.get(f"/admin/conversations/message/{reply.pk}/change/").status_code == 200
    model = LLMModel.objects.get(slug="smollm2-135m")
    assert admin_web.get(f"/admin/conversations/llmmodel/{model.pk}/change/").status_code == 200


def test_conversation_page_shows_messages_read_only(admin_web, some_rows):
    page = admin_web.get(f"/admin/conversations/conversation/{some_rows.pk}/change/").content.decode()
    assert "question" in page and "answer" in page
    assert 'name="messages-0-content"' not in page


def test_the_conversation_page_shows_its_tree_with_every_version(admin_web, some_rows):
    question = some_rows.messages.get(role="user")
    answer = some_rows.messages.get(role="assistant")
    # Another version of the answer, and one of the question (an edit) with its own reply.
    older = AssistantMessageFactory(conversation=some_rows, parent=question, content="another version of it")
    edited = MessageFactory(conversation=some_rows, parent=None, content="the question, edited")
    AssistantMessageFactory(conversation=some_rows, parent=edited, content="an answer to the edit")
    Conversation.objects.filter(pk=some_rows.pk).update(current_message=older)

    page = admin_web.get(f"/admin/conversations/conversation/{some_rows.pk}/change/").content.decode()

    tree = page[page.index('class="message-tree"') :]
    order = [tree.index(text) for text in (question.content, answer.content, "another version of it")]
    order += [tree.index(text) for text in ("the question, edited", "an answer to the edit")]
    assert order == sorted(order)  # each version under the message it answers, oldest first
    # The owner's path (the question and the version they switched to) is marked; the rest is not.
    marked = re.findall(r"<li[^>]*>(●|○) <a href=\"/admin/conversations/message/([0-9a-f-]+)/change/\"", tree)
    assert {pk for mark, pk in marked if mark == "●"} == {str(question.pk), str(older.pk)}
    assert len(marked) == 5


def test_conversations_are_not_added_in_the_admin(admin_web):
    assert admin_web.get("/admin/conversations/conversation/add/").status_code == 403


def test_messages_are_read_only_in_the_admin(admin_web, some_rows):
    reply = some_rows.messages.get(role="assistant")
    response = admin_web.post(
        f"/admin/conversations/message/{reply.pk}/change/", {"content": "edited", "status": MessageStatus.ERROR}
    )
    assert response.status_code == 403
    assert Message.objects.get(pk=reply.pk).content == "answer"


def test_staff_cannot_attach_another_users_notes_and_the_engine_ignores_them(admin_web, user, outsider):
    from conversations.admin import ConversationAdminForm
    from conversations.generation import grounding, rows
    from tests.collector.factories import ItemFactory

    conversation = ConversationFactory(owner=user, title="Mine")
    mine = ItemFactory(owner=user, title="my note", content="alpha")
    theirs = ItemFactory(owner=outsider, title="their secret", content="charlie's diary")

    form = ConversationAdminForm(instance=conversation)
    assert list(form.fields["context_items"].queryset) == [mine]
    page = admin_web.get(f"/admin/conversations/conversation/{conversation.pk}/change/").content.decode()
    assert "my note" in page and "their secret" not in page

    # Even attached behind the admin's back, the engine searches only the owner's own notes.
    conversation.context_items.set([mine, theirs])
    MessageFactory(conversation=conversation, role="user", content="what did I note?")
    reply = AssistantMessageFactory(conversation=conversation, status="pending", content="")
    claimed = rows.reply_claim(message_id=reply.pk)
    searched = {}

    def retrieve(**kwargs):
        searched.update(kwargs)
        return []

    with mock.patch.object(grounding, "_retrieve", retrieve):
        grounding.reply_grounding(claimed=claimed)
    assert searched["item_ids"] == [mine.pk] and searched["owner_id"] == user.pk
