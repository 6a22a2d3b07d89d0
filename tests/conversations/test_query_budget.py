"""Sending a message is the hot path: its statement count is fixed (and asserted here)."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations.models import Conversation, Message
from tests.conversations.upstream import upstream  # noqa: F401

pytestmark = pytest.mark.django_db


def _statement_kinds(captured) -> Counter:
    # BEGIN/COMMIT/SAVEPOINT differ between SQLite and PostgreSQL; count only the data statements.
    kinds = Counter(q["sql"].split(None, 1)[0].upper() for q in captured)
    return Counter({k: v for k, v in kinds.items() if k in {"SELECT", "INSERT", "UPDATE", "DELETE"}})


@pytest.mark.parametrize("history", [1, 60])
def test_sending_a_message_costs_the_same_statements_whatever_the_history(user_client, history):
    conversation_id = user_client.post("/api/v1/conversations", {"title": "budget"}, format="json").json()["id"]
    two_days_ago = timezone.now() - timedelta(days=2)  # older than today's quota window
    rows = [
        Message(conversation_id=conversation_id, role=role, content=f"m{i}", created_at=two_days_ago, depth=i)
        for i, role in enumerate(("user", "assistant") * history)
    ]
    for parent, child in zip(rows, rows[1:], strict=False):
        child.parent = parent
    Message.objects.bulk_create(rows)
    Conversation.objects.filter(pk=conversation_id).update(current_message=rows[-1])

    with CaptureQueriesContext(connection) as ctx:
        response = user_client.post(
            f"/api/v1/conversations/{conversation_id}/messages", {"content": "hello"}, format="json"
        )

    assert response.status_code == 202, response.content
    kinds = _statement_kinds(ctx.captured_queries)
    assert sum(kinds.values()) <= 5  # the budget for a send
    assert kinds == Counter(
        {
            # 1 session (device + user + settings), 2 the conversation with its current leaf (the
            # new question's parent) and model, the user's settings locked with their plan,
            # messages sent today (quota), replies in flight (concurrency) and whether the plan
            # includes the model (services._send_read)
            "SELECT": 2,
            # the question and the pending reply (one INSERT), the reply's ledger entry
            "INSERT": 2,
            # the conversation's updated_at and current leaf
            "UPDATE": 1,
        }
    )


# --- opening a stream: the session, then the reply with the conversation's ownership ------------


def _stream_open_statements(client, conversation_id, **kwargs):
    from django.test import RequestFactory

    from conversations.api.stream import Resume, _open_stream

    request = RequestFactory().get("/", HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"])
    with CaptureQueriesContext(connection) as ctx:
        opened = _open_stream(
            request, conversation_id, wanted=kwargs.get("wanted"), resume=kwargs.get("resume", Resume())
        )
    return opened, _statement_kinds(ctx.captured_queries)


def _chat_with_replies(conversation_id, replies: int) -> list[Message]:
    rows, parent = [], None
    for i in range(replies * 2):
        role = "user" if i % 2 == 0 else "assistant"
        row = Message(
            conversation_id=conversation_id,
            role=role,
            content=f"m{i}",
            depth=i,
            parent=parent,
            status="complete",
            created_at=timezone.now() + timedelta(microseconds=i),
        )
        rows.append(row)
        parent = row
    Message.objects.bulk_create(rows)
    return rows


@pytest.mark.parametrize("replies", [1, 30])
def test_opening_a_stream_costs_two_statements(user_client, user, replies):
    from conversations.api.stream import Resume

    conversation_id = user_client.post("/api/v1/conversations", {"title": "s"}, format="json").json()["id"]
    rows = _chat_with_replies(conversation_id, replies)
    leaf = rows[1]  # an older reply is the current leaf (the user went back to it)
    Conversation.objects.filter(pk=conversation_id).update(current_message=leaf)

    (found_user, _failure, found_id, message), kinds = _stream_open_statements(user_client, conversation_id)
    assert found_user == user and str(found_id) == conversation_id
    assert message.pk == leaf.pk  # the current leaf, not the newest reply
    assert kinds == Counter({"SELECT": 2})

    # Resuming a reply by its event id, or naming it: the same two.
    newest = rows[-1]
    (_u, _f, _id, message), kinds = _stream_open_statements(
        user_client, conversation_id, resume=Resume(str(newest.pk), 3)
    )
    assert message.pk == newest.pk and kinds == Counter({"SELECT": 2})
    (_u, _f, _id, message), kinds = _stream_open_statements(user_client, conversation_id, wanted=str(newest.pk))
    assert message.pk == newest.pk and kinds == Counter({"SELECT": 2})


def test_opening_a_stream_of_someone_elses_conversation_finds_nothing(user_client, outsider_client):
    conversation_id = user_client.post("/api/v1/conversations", {"title": "s"}, format="json").json()["id"]
    rows = _chat_with_replies(conversation_id, 1)
    (_u, _f, found_id, message), _kinds = _stream_open_statements(outsider_client, conversation_id)
    assert found_id is None and message is None
    (_u, _f, found_id, message), _kinds = _stream_open_statements(
        outsider_client, conversation_id, wanted=str(rows[1].pk)
    )
    assert found_id is None and message is None
    # No reply yet in one's own conversation: the conversation is found (a third statement says so).
    empty_id = user_client.post("/api/v1/conversations", {"title": "e"}, format="json").json()["id"]
    (_u, _f, found_id, message), kinds = _stream_open_statements(user_client, empty_id)
    assert str(found_id) == empty_id and message is None and kinds == Counter({"SELECT": 3})


# --- the one read still serialises one user's sends -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_sends_at_once_pass_the_plan_limit_one_at_a_time(user, upstream):  # noqa: F811
    """Eight sends of one user at once, to eight chats, on a plan of 3 replies at a time: the user's
    settings row, locked by the send's one read, lets exactly 3 through (429 for the others), on
    SQLite (IMMEDIATE transactions) as on PostgreSQL (FOR UPDATE OF the settings row)."""
    import threading

    from django.db import connections
    from rest_framework.test import APIClient

    from accounts import services as account_services
    from tests.conversations.test_tree_api import roomy_plan, settle, upstream_model

    roomy_plan(user, concurrent=3)
    model = upstream_model(upstream, "slow:40")  # 2 s a reply: all still in flight at the end
    chats = [Conversation.objects.create(owner=user, model=model, title=f"c{i}") for i in range(8)]
    token = account_services.session_start(user=user, login_type="local", device_id=None).tokens.access
    ready, statuses = threading.Barrier(len(chats)), []

    def send(conversation) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            ready.wait(5)
            url = f"/api/v1/conversations/{conversation.pk}/messages"
            statuses.append(client.post(url, {"content": "hi"}, format="json").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(chat,)) for chat in chats]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [202] * 3 + [429] * 5
    assert Message.objects.in_flight().filter(conversation__owner=user).count() <= 3
    for chat in chats:
        settle(chat, seconds=15)


# --- the one read's edges (a second reader's findings) ------------------------------------------


def test_a_user_without_a_settings_row_can_send(user_client, user):
    """A user made outside ``user_create`` (``createsuperuser``) has no settings row: the session's
    read caches "none", and the send makes the row, then reads again."""
    from accounts.models import UserSettings
    from tests.conversations.factories import ConversationFactory

    conversation = ConversationFactory(owner=user)
    UserSettings.objects.filter(user=user).delete()
    response = user_client.post(f"/api/v1/conversations/{conversation.pk}/messages", {"content": "hi"}, format="json")
    assert response.status_code == 202, response.content
    assert UserSettings.objects.filter(user=user).exists()


@pytest.mark.parametrize("query", ["?wait=maybe", ""])
def test_someone_elses_conversation_is_404_whatever_the_body_or_wait_say(user_client, outsider_client, query):
    conversation_id = user_client.post("/api/v1/conversations", {"title": "mine"}, format="json").json()["id"]
    url = f"/api/v1/conversations/{conversation_id}/messages{query}"
    for body in ({"content": "hi"}, {"content": ""}):
        response = outsider_client.post(url, body, format="json")
        assert response.status_code == 404, (body, response.content)
    if query:  # one's own: the bad flag is named
        response = user_client.post(url, {"content": "hi"}, format="json")
        assert response.status_code == 400 and "wait" in response.json()


def test_a_refusal_from_the_locked_reads_counts_is_counted_again(user):
    """On PostgreSQL the locked read counts with a snapshot from before the lock was granted: a
    reply that ended meanwhile is still in it. Its "too many" is checked again before refusing."""
    from accounts.services import user_settings_get
    from conversations import services
    from tests.conversations.factories import ConversationFactory

    settings_row = user_settings_get(user=user)
    conversation = ConversationFactory(owner=user)
    stale = services.SendChecks(
        now=timezone.now(),
        since=timezone.now() - timedelta(hours=1),
        messages_sent=10**6,
        in_flight=10**6,
        model_allowed=True,
    )
    # Nothing in flight and nothing sent, in fact: the send passes.
    services._check_plan_limits(user=user, conversation=conversation, settings_row=settings_row, known=stale)


def test_sent_copies_with_its_new_turn():
    import copy
    import pickle

    from conversations.services import Sent

    sent = Sent("q", "r", new_turn=True)
    for twin in (copy.copy(sent), pickle.loads(pickle.dumps(sent))):  # noqa: S301 (our own bytes)
        assert tuple(twin) == ("q", "r") and twin.new_turn is True
