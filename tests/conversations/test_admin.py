"""The conversations admin renders and its actions do what they say."""

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from conversations.models import LLMModel, Message, MessageStatus
from tests.accounts.factories import UserFactory
from tests.conversations.factories import (
    AssistantMessageFactory,
    ConversationFactory,
    FeedbackFactory,
    LLMModelFactory,
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


def test_superseded_messages_stay_visible_to_staff(admin_web, some_rows):
    MessageFactory(conversation=some_rows, content="asked before an edit", superseded=True)
    page = admin_web.get(f"/admin/conversations/conversation/{some_rows.pk}/change/").content.decode()
    assert "asked before an edit" in page
    response = admin_web.get("/admin/conversations/message/", {"superseded__exact": "1"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == list(Message.objects.filter(superseded=True))


def _action(client, model: str, action: str, pks) -> list[str]:
    response = client.post(
        f"/admin/conversations/{model}/",
        {"action": action, "_selected_action": [str(pk) for pk in pks]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_enable_and_disable_actions(admin_web):
    example = LLMModel.objects.get(slug="gpt-4o-mini")
    assert _action(admin_web, "llmmodel", "enable", [example.pk]) == ["Enabled 1 model(s)."]
    assert LLMModel.objects.get(pk=example.pk).enabled
    default = LLMModel.objects.get(is_default=True)
    notes = _action(admin_web, "llmmodel", "disable", [example.pk, default.pk])
    assert notes[0] == "Disabled 1 model(s)."
    assert "default" in notes[1]
    assert not LLMModel.objects.get(pk=example.pk).enabled
    assert LLMModel.objects.get(pk=default.pk).enabled  # the default is never switched off


def test_make_default_action_moves_the_default(admin_web):
    example = LLMModel.objects.get(slug="ollama-llama3-2")
    notes = _action(admin_web, "llmmodel", "make_default", [example.pk])
    assert "now the default" in notes[0]
    assert list(LLMModel.objects.filter(is_default=True).values_list("slug", flat=True)) == ["ollama-llama3-2"]
    assert LLMModel.objects.get(pk=example.pk).enabled


def test_make_default_needs_exactly_one_model(admin_web):
    pks = LLMModel.objects.values_list("pk", flat=True)[:2]
    notes = _action(admin_web, "llmmodel", "make_default", pks)
    assert "exactly one" in notes[0]
    assert LLMModel.objects.get(is_default=True).slug == "smollm2-135m"


def test_test_connection_reports_an_unreachable_upstream(admin_web):
    # Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
    broken = LLMModelFactory(slug="nowhere", base_url="http://127.0.0.1:9/v1", request_timeout_seconds=2)
    notes = _action(admin_web, "llmmodel", "test_connection", [broken.pk])
    assert len(notes) == 1
    assert notes[0].startswith("nowhere: failed")


@pytest.mark.slow
def test_test_connection_reaches_the_local_model_server(admin_web, local_model):
    local = LLMModel.objects.get(slug="smollm2-135m")
    notes = _action(admin_web, "llmmodel", "test_connection", [local.pk])
    assert notes == ["smollm2-135m: OK"]


def test_publish_as_sample_action(admin_web, some_rows):
    from sharing.models import Sample

    notes = _action(admin_web, "conversation", "publish_as_sample", [some_rows.pk])
    assert "Published 1" in notes[0]
    assert Sample.objects.filter(source_conversation=some_rows).count() == 1


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
    from conversations.generation import rows
    from tests.collector.factories import ItemFactory

    conversation = ConversationFactory(owner=user, title="Mine")
    mine = ItemFactory(owner=user, title="my note", content="alpha")
    theirs = ItemFactory(owner=outsider, title="their secret", content="charlie's diary")

    form = ConversationAdminForm(instance=conversation)
    assert list(form.fields["context_items"].queryset) == [mine]
    page = admin_web.get(f"/admin/conversations/conversation/{conversation.pk}/change/").content.decode()
    assert "my note" in page and "their secret" not in page

    # Even attached behind the admin's back, the engine sends only the owner's own notes.
    conversation.context_items.set([mine, theirs])
    reply = AssistantMessageFactory(conversation=conversation, status="pending", content="")
    claimed = rows.reply_claim(message_id=reply.pk)
    assert "alpha" in claimed.context_text and "diary" not in claimed.context_text
