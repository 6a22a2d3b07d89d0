"""POST /conversations/{id}/regenerate and /edit: asking the last question again (the same text, or
new text) supersedes that turn, which stays in the database but leaves the conversation."""

from collections import Counter
from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Plan, UserSettings
from conversations import selectors
from conversations.models import LLMModel, Message, MessageStatus, Role
from tests.conversations.factories import (
    AssistantMessageFactory,
    ConversationFactory,
    LLMModelFactory,
    MessageFactory,
)
from tests.conversations.sse import iter_events
from tests.conversations.upstream import expected_text, upstream  # noqa: F401

pytestmark = pytest.mark.django_db


def url(conversation, suffix: str) -> str:
    return f"/api/v1/conversations/{conversation.pk}{suffix}"


def set_plan(user, slug: str, **limits) -> Plan:
    plan = Plan.objects.get(slug=slug)
    if limits:
        Plan.objects.filter(pk=plan.pk).update(**limits)
    UserSettings.objects.filter(user=user).update(plan=plan)
    return plan


def with_turns(conversation, *texts: str, start=None) -> list[Message]:
    """Alternate user and assistant messages, a second apart, ending a minute ago."""
    start = start or timezone.now() - timedelta(minutes=1, seconds=len(texts))
    rows = []
    for index, text in enumerate(texts):
        factory = MessageFactory if index % 2 == 0 else AssistantMessageFactory
        rows.append(factory(conversation=conversation, content=text, created_at=start + timedelta(seconds=index)))
    return rows


@pytest.fixture
def conversation(user):
    return ConversationFactory(owner=user)


def listed(client, conversation) -> list[tuple[str, str]]:
    response = client.get(url(conversation, "/messages"))
    assert response.status_code == 200
    return [(row["role"], row["content"]) for row in response.json()["results"]]


# --- regenerate -------------------------------------------------------------------------------


def test_regenerate_asks_the_last_question_again_and_hides_the_old_turn(
    user_client, conversation, django_capture_on_commit_callbacks
):
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "second", "answer two")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = user_client.post(url(conversation, "/regenerate"), {}, format="json")

    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == {"user_message", "assistant_message", "stream_url"}
    assert (body["user_message"]["role"], body["user_message"]["content"]) == ("user", "second")
    assert body["user_message"]["id"] != str(q2.pk)
    assert (body["assistant_message"]["status"], body["assistant_message"]["content"]) == ("pending", "")
    assert body["stream_url"] == url(conversation, "/stream")
    assert len(callbacks) == 1  # the new reply starts once the transaction commits
    # The list shows the new turn in place of the old one...
    assert listed(user_client, conversation) == [
        ("user", "first"),
        ("assistant", "answer one"),
        ("user", "second"),
        ("assistant", ""),
    ]
    # ...which stays in the database, superseded; nothing else is.
    superseded = set(Message.objects.filter(superseded=True).values_list("pk", flat=True))
    assert superseded == {q2.pk, a2.pk}
    assert Message.objects.filter(conversation=conversation).count() == 6


def test_the_conversation_summary_counts_and_previews_only_visible_messages(user_client, conversation):
    with_turns(conversation, "first", "answer one", "second", "answer two")
    assert user_client.post(url(conversation, "/regenerate"), {}, format="json").status_code == 202
    Message.objects.filter(status=MessageStatus.PENDING).update(status=MessageStatus.COMPLETE, content="answer three")

    summary = user_client.get(url(conversation, "")).json()
    assert (summary["message_count"], summary["last_message_preview"]) == (4, "answer three")
    row = next(c for c in user_client.get("/api/v1/conversations").json()["results"] if c["id"] == str(conversation.pk))
    assert (row["message_count"], row["last_message_preview"]) == (4, "answer three")
    # A superseded reply is not a search hit either.
    assert user_client.get("/api/v1/conversations?q=answer+two").json()["results"] == []


def test_the_preview_skips_a_superseded_last_message(user, conversation):
    with_turns(conversation, "first", "answer one", "second", "answer two")
    Message.objects.filter(content__in=("second", "answer two")).update(superseded=True)
    annotated = selectors.conversation_get(user=user, pk=conversation.pk)
    assert (annotated.message_count, annotated.last_message_preview) == (2, "answer one")


def test_regenerate_with_another_model_switches_the_conversation(user_client, conversation):
    with_turns(conversation, "first", "answer one")
    LLMModelFactory(slug="other")
    response = user_client.post(url(conversation, "/regenerate"), {"model": "other"}, format="json")
    assert response.status_code == 202
    assert response.json()["assistant_message"]["model"] == "other"
    conversation.refresh_from_db()
    assert conversation.model.slug == "other"


def test_regenerate_a_question_whose_reply_failed(user_client, conversation):
    with_turns(conversation, "first")
    AssistantMessageFactory(conversation=conversation, status=MessageStatus.ERROR, content="half")
    response = user_client.post(url(conversation, "/regenerate"), format="json")
    assert response.status_code == 202
    assert listed(user_client, conversation) == [("user", "first"), ("assistant", "")]


def test_regenerate_with_nothing_asked_is_409(user_client, conversation):
    AssistantMessageFactory(conversation=conversation)  # e.g. a greeting of a sample
    response = user_client.post(url(conversation, "/regenerate"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "nothing_to_regenerate"
    assert not Message.objects.filter(superseded=True).exists()


def test_regenerate_while_a_reply_is_in_flight_is_409(user_client, user, conversation):
    set_plan(user, "plus", max_concurrent_generations=2)
    with_turns(conversation, "first")
    AssistantMessageFactory(conversation=conversation, status=MessageStatus.STREAMING, content="so far")
    response = user_client.post(url(conversation, "/regenerate"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "generation_in_progress"
    assert not Message.objects.filter(superseded=True).exists()
    assert Message.objects.filter(conversation=conversation).count() == 2


@pytest.mark.parametrize(
    ("query", "payload", "field"),
    [
        ("", {"model": "no-such-model"}, "model"),
        ("", {"model": "gpt-4o-mini"}, "model"),  # disabled
        ("", {"model": 7}, "model"),
        ("?wait=perhaps", {}, "wait"),
    ],
)
def test_regenerate_rejects_bad_input_naming_the_field(user_client, conversation, query, payload, field):
    with_turns(conversation, "first", "answer one")
    response = user_client.post(url(conversation, "/regenerate") + query, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Message.objects.filter(superseded=True).exists()


def test_regenerate_is_refused_by_the_plan_like_a_send(user_client, user, conversation):
    with_turns(conversation, "first", "answer one")
    premium = LLMModelFactory(slug="premium")
    premium.plans.set([Plan.objects.get(slug="plus")])
    response = user_client.post(url(conversation, "/regenerate"), {"model": "premium"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "model_not_in_plan"
    assert not Message.objects.filter(superseded=True).exists()


# --- the daily quota --------------------------------------------------------------------------


def test_regenerating_costs_one_message_of_the_daily_quota(user_client, user, conversation):
    set_plan(user, "free", daily_message_limit=2)
    with_turns(conversation, "first", "answer one")  # one message sent today

    assert user_client.post(url(conversation, "/regenerate"), {}, format="json").status_code == 202
    Message.objects.filter(status=MessageStatus.PENDING).update(status=MessageStatus.COMPLETE)
    usage = user_client.get("/api/v1/user/settings/subscription").json()["usage_today"]
    assert (usage["messages_sent"], usage["daily_message_limit"]) == (2, 2)  # superseded ones count too

    response = user_client.post(url(conversation, "/regenerate"), {}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "daily_quota_exceeded"
    assert int(response["Retry-After"]) > 0
    # Refused: nothing superseded by the attempt.
    assert Message.objects.filter(superseded=True).count() == 2
    edit = {"message_id": str(Message.objects.get(superseded=False, role=Role.USER).pk), "content": "other"}
    assert user_client.post(url(conversation, "/edit"), edit, format="json").status_code == 429


# --- edit -------------------------------------------------------------------------------------


def test_edit_replaces_the_last_question_keeping_the_old_one(user_client, conversation):
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "secnd", "answer two")
    payload = {"message_id": str(q2.pk), "content": "second, spelt right"}

    response = user_client.post(url(conversation, "/edit"), payload, format="json")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["user_message"]["content"] == "second, spelt right"
    assert body["assistant_message"]["status"] == "pending"
    assert listed(user_client, conversation) == [
        ("user", "first"),
        ("assistant", "answer one"),
        ("user", "second, spelt right"),
        ("assistant", ""),
    ]
    q2.refresh_from_db()
    a2.refresh_from_db()
    assert (q2.content, q2.superseded, a2.superseded) == ("secnd", True, True)


def test_edit_the_only_question(user_client, conversation):
    (question,) = with_turns(conversation, "hello")
    payload = {"message_id": str(question.pk), "content": "hello again"}
    response = user_client.post(url(conversation, "/edit"), payload, format="json")
    assert response.status_code == 202
    assert listed(user_client, conversation) == [("user", "hello again"), ("assistant", "")]


@pytest.mark.parametrize("target", ["earlier question", "reply", "superseded question"])
def test_edit_of_anything_but_the_last_question_is_409(user_client, conversation, target):
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "second", "answer two")
    old = MessageFactory(conversation=conversation, content="old", created_at=q2.created_at, superseded=True)
    message = {"earlier question": q1, "reply": a2, "superseded question": old}[target]

    response = user_client.post(
        url(conversation, "/edit"), {"message_id": str(message.pk), "content": "new"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "not_last_message"
    assert Message.objects.filter(superseded=True).count() == 1


def test_edit_while_a_reply_is_in_flight_is_409(user_client, conversation):
    (question,) = with_turns(conversation, "first")
    AssistantMessageFactory(conversation=conversation, status=MessageStatus.PENDING, content="")
    payload = {"message_id": str(question.pk), "content": "new"}
    response = user_client.post(url(conversation, "/edit"), payload, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "generation_in_progress"
    assert not Message.objects.filter(superseded=True).exists()


def test_edit_of_a_message_of_another_conversation_is_404(user_client, user, outsider, conversation):
    with_turns(conversation, "first", "answer one")
    for elsewhere in (
        MessageFactory(conversation=ConversationFactory(owner=user)),  # mine, but not here
        MessageFactory(conversation=ConversationFactory(owner=outsider)),
    ):
        payload = {"message_id": str(elsewhere.pk), "content": "new"}
        response = user_client.post(url(conversation, "/edit"), payload, format="json")
        assert response.status_code == 404
        assert response.json()["code"] == "message_not_found"
    payload = {"message_id": "00000000-0000-4000-8000-000000000000", "content": "new"}
    assert user_client.post(url(conversation, "/edit"), payload, format="json").json()["code"] == "message_not_found"
    assert not Message.objects.filter(superseded=True).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"content": "new"}, "message_id"),
        ({"message_id": "not-a-uuid", "content": "new"}, "message_id"),
        ({"message_id": 7, "content": "new"}, "message_id"),
        ({"message_id": "LAST"}, "content"),
        ({"message_id": "LAST", "content": ""}, "content"),
        ({"message_id": "LAST", "content": "  \n "}, "content"),
        ({"message_id": "LAST", "content": ["a list"]}, "content"),
        ({"message_id": "LAST", "content": "x" * 32_001}, "content"),
        ({"message_id": "LAST", "content": "new", "model": "no-such-model"}, "model"),
    ],
)
def test_edit_rejects_bad_input_naming_the_field(user_client, conversation, payload, field):
    (question,) = with_turns(conversation, "first")
    if payload.get("message_id") == "LAST":
        payload = {**payload, "message_id": str(question.pk)}
    response = user_client.post(url(conversation, "/edit"), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Message.objects.filter(superseded=True).exists()


# --- whose ------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["/regenerate", "/edit"])
def test_another_users_conversation_is_404(outsider_client, conversation, suffix):
    (question,) = with_turns(conversation, "first")
    payload = {"message_id": str(question.pk), "content": "mine now"}
    response = outsider_client.post(url(conversation, suffix), payload, format="json")
    assert response.status_code == 404
    assert not Message.objects.filter(superseded=True).exists()
    assert Message.objects.count() == 1


@pytest.mark.parametrize("suffix", ["/regenerate", "/edit"])
def test_resending_requires_authentication(api_client, conversation, suffix):
    assert api_client.post(url(conversation, suffix), {}, format="json").status_code == 401


# --- the staff view and the statement budget --------------------------------------------------


def test_the_staff_view_of_a_conversation_leaves_superseded_messages_out(staff_client, user, conversation):
    with_turns(conversation, "first", "answer one", "second", "answer two")
    Message.objects.filter(content__in=("second", "answer two")).update(superseded=True)
    body = staff_client.get(f"/api/v1/users/{user.pk}/conversations/{conversation.pk}").json()
    assert [m["content"] for m in body["messages"]] == ["first", "answer one"]
    assert body["message_count"] == 2


def _statement_kinds(captured) -> Counter:
    kinds = Counter(q["sql"].split(None, 1)[0].upper() for q in captured)
    return Counter({k: v for k, v in kinds.items() if k in {"SELECT", "INSERT", "UPDATE", "DELETE"}})


@pytest.mark.parametrize("history", [1, 60])
def test_regenerating_costs_the_same_statements_whatever_the_history(user_client, conversation, history):
    start = timezone.now() - timedelta(days=2)  # older than today's quota window
    with_turns(conversation, *[f"m{i}" for i in range(2 * history)], start=start)

    with CaptureQueriesContext(connection) as ctx:
        response = user_client.post(url(conversation, "/regenerate"), {}, format="json")

    assert response.status_code == 202, response.content
    assert _statement_kinds(ctx.captured_queries) == Counter(
        {
            # 1 session (device + user), 2 the conversation, 3 the user's settings locked with
            # their plan, 4 the last question, 5 a reply in flight here, 6 the plans allowed to use
            # the model, 7 messages sent today (quota), 8 replies in flight (concurrency), 9 the
            # question's attachments (the new turn keeps them)
            "SELECT": 9,
            # the new user message and its pending reply
            "INSERT": 2,
            # the superseded turn (one statement), the conversation's updated_at
            "UPDATE": 2,
        }
    )


# --- the reply itself, from a real upstream ---------------------------------------------------


def upstream_model(upstream, mode: str) -> LLMModel:  # noqa: F811
    return LLMModel.objects.create(
        slug=mode.replace(":", "-"),
        display_name=mode,
        provider="openai",
        upstream_model=mode,
        base_url=upstream.base_url,
        request_timeout_seconds=5.0,
        context_window=4096,
        max_output_tokens=64,
    )


@pytest.mark.django_db(transaction=True)  # ?wait=true: the reply starts after commit
def test_the_model_is_sent_no_superseded_turn(user_client, user, upstream):  # noqa: F811
    model = upstream_model(upstream, "burst:3")
    conversation = ConversationFactory(owner=user, model=model, system_prompt="Be brief.")
    with_turns(conversation, "first", "answer one", "secnd", "answer two")

    before = len(upstream.requests)
    response = user_client.post(url(conversation, "/regenerate?wait=true"), {}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["assistant_message"]["content"] == expected_text(3)
    edit = {"message_id": response.json()["user_message"]["id"], "content": "second"}
    response = user_client.post(url(conversation, "/edit?wait=true"), edit, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["assistant_message"]["status"] == "complete"

    regenerated, edited = (request["messages"] for request in upstream.requests[before:])
    history = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "answer one"},
    ]
    assert regenerated == [*history, {"role": "user", "content": "secnd"}]
    assert edited == [*history, {"role": "user", "content": "second"}]
    assert listed(user_client, conversation) == [
        ("user", "first"),
        ("assistant", "answer one"),
        ("user", "second"),
        ("assistant", expected_text(3)),
    ]
    # Kept for the record: the two turns asked before, and their replies.
    assert Message.objects.filter(conversation=conversation, superseded=True).count() == 4


@pytest.mark.django_db(transaction=True)
def test_the_regenerated_reply_streams(asgi_server, upstream, user):  # noqa: F811
    model = upstream_model(upstream, "normal:20")
    conversation = ConversationFactory(owner=user, model=model)
    with_turns(conversation, "first", "answer one")
    session = account_services.session_start(user=user, login_type="local", device_id=None)
    headers = {"Authorization": f"Bearer {session.tokens.access}"}

    response = httpx.post(asgi_server + url(conversation, "/regenerate"), json={}, headers=headers, timeout=20)
    assert response.status_code == 202, response.text
    reply_id = response.json()["assistant_message"]["id"]
    with httpx.stream("GET", asgi_server + response.json()["stream_url"], headers=headers, timeout=20) as stream:
        assert stream.status_code == 200
        events = list(iter_events(stream))

    assert {e.data["message_id"] for e in events} == {reply_id}
    assert "".join(e.data["text"] for e in events if e.name in ("snapshot", "delta")) == expected_text(20)
    assert (events[-1].name, events[-1].data["status"]) == ("message.done", "complete")
    assert Message.objects.get(pk=reply_id).content == expected_text(20)
