"""POST /conversations/{id}/regenerate and /edit: asking the last question of the active path
again (the same text, or new text) makes a new version beside that turn (a sibling), which becomes
current; the earlier version stays, one step away (``sibling_ids``, ``PATCH current_message_id``)."""

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
    """Alternate user and assistant messages in a line, a second apart, ending a minute ago."""
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


def switch(client, conversation, message_id) -> dict:
    """PATCH current_message_id: step to another version."""
    response = client.patch(url(conversation, ""), {"current_message_id": str(message_id)}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def count(conversation) -> int:
    return Message.objects.filter(conversation=conversation).count()


# --- regenerate -------------------------------------------------------------------------------


def test_regenerate_answers_the_last_question_again_beside_the_old_reply(
    user_client, conversation, django_capture_on_commit_callbacks
):
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "second", "answer two")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = user_client.post(url(conversation, "/regenerate"), {}, format="json")

    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == {"user_message", "assistant_message", "stream_url"}
    # The question asked again is the one already there: no new user message.
    question, reply = body["user_message"], body["assistant_message"]
    assert (question["id"], question["role"], question["content"]) == (str(q2.pk), "user", "second")
    assert (reply["status"], reply["content"], reply["parent_id"]) == ("pending", "", str(q2.pk))
    assert reply["sibling_ids"] == [str(a2.pk), reply["id"]]
    assert question["sibling_ids"] == [str(q2.pk)]
    assert body["stream_url"] == url(conversation, "/stream")
    assert len(callbacks) == 1  # the new reply starts once the transaction commits
    assert count(conversation) == 5
    assert Message.objects.filter(conversation=conversation, role=Role.USER).count() == 2
    # The list shows the new reply, which is current...
    assert listed(user_client, conversation) == [
        ("user", "first"),
        ("assistant", "answer one"),
        ("user", "second"),
        ("assistant", ""),
    ]
    assert user_client.get(url(conversation, "")).json()["current_message_id"] == reply["id"]
    # ...and the old one is a step away, as it was.
    assert switch(user_client, conversation, a2.pk)["current_message_id"] == str(a2.pk)
    assert listed(user_client, conversation)[-1] == ("assistant", "answer two")
    a2.refresh_from_db()
    assert (a2.content, a2.parent_id) == ("answer two", q2.pk)


def test_the_conversation_summary_counts_and_previews_the_active_path(user_client, conversation):
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "second", "answer two")
    assert user_client.post(url(conversation, "/regenerate"), {}, format="json").status_code == 202
    Message.objects.filter(status=MessageStatus.PENDING).update(status=MessageStatus.COMPLETE, content="answer three")

    summary = user_client.get(url(conversation, "")).json()
    assert (summary["message_count"], summary["last_message_preview"]) == (4, "answer three")
    row = next(c for c in user_client.get("/api/v1/conversations").json()["results"] if c["id"] == str(conversation.pk))
    assert (row["message_count"], row["last_message_preview"]) == (4, "answer three")
    # Back to the first version: the summary follows.
    summary = switch(user_client, conversation, a2.pk)
    assert (summary["message_count"], summary["last_message_preview"]) == (4, "answer two")


def test_the_preview_is_the_current_leafs(user, conversation):
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "second", "answer two")
    conversation.current_message = a1
    conversation.save(update_fields=["current_message"])
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
    (question,) = with_turns(conversation, "first")
    failed = AssistantMessageFactory(conversation=conversation, status=MessageStatus.ERROR, content="half")
    response = user_client.post(url(conversation, "/regenerate"), format="json")
    assert response.status_code == 202
    assert listed(user_client, conversation) == [("user", "first"), ("assistant", "")]
    assert response.json()["assistant_message"]["sibling_ids"][0] == str(failed.pk)
    assert response.json()["user_message"]["id"] == str(question.pk)


def test_regenerate_a_question_left_without_a_reply_answers_it(user_client, conversation):
    (question,) = with_turns(conversation, "first")  # e.g. an imported chat ending with a question
    LLMModelFactory(slug="other")
    response = user_client.post(url(conversation, "/regenerate"), {"model": "other"}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["user_message"]["id"] == str(question.pk)
    assert (body["assistant_message"]["parent_id"], body["assistant_message"]["model"]) == (str(question.pk), "other")
    assert count(conversation) == 2


def test_regenerate_with_nothing_asked_is_409(user_client, conversation):
    AssistantMessageFactory(conversation=conversation)  # e.g. a greeting of a sample
    response = user_client.post(url(conversation, "/regenerate"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "nothing_to_regenerate"
    assert count(conversation) == 1


def test_regenerate_while_a_reply_is_in_flight_is_409(user_client, user, conversation):
    set_plan(user, "plus", max_concurrent_generations=2)
    with_turns(conversation, "first")
    AssistantMessageFactory(conversation=conversation, status=MessageStatus.STREAMING, content="so far")
    response = user_client.post(url(conversation, "/regenerate"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "generation_in_progress"
    assert count(conversation) == 2


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
    assert count(conversation) == 2


def test_regenerate_is_refused_by_the_plan_like_a_send(user_client, user, conversation):
    with_turns(conversation, "first", "answer one")
    premium = LLMModelFactory(slug="premium")
    premium.plans.set([Plan.objects.get(slug="plus")])
    response = user_client.post(url(conversation, "/regenerate"), {"model": "premium"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "model_not_in_plan"
    assert count(conversation) == 2


# --- the daily quota --------------------------------------------------------------------------


def test_regenerating_costs_one_message_of_the_daily_quota(user_client, user, conversation):
    set_plan(user, "free", daily_message_limit=2)
    q1, a1 = with_turns(conversation, "first", "answer one")  # one message sent today

    assert user_client.post(url(conversation, "/regenerate"), {}, format="json").status_code == 202
    Message.objects.filter(status=MessageStatus.PENDING).update(status=MessageStatus.COMPLETE)
    usage = user_client.get("/api/v1/user/settings/subscription").json()["usage_today"]
    assert (usage["messages_sent"], usage["daily_message_limit"]) == (2, 2)  # every version counts

    response = user_client.post(url(conversation, "/regenerate"), {}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "daily_quota_exceeded"
    assert int(response["Retry-After"]) > 0
    # Refused: nothing made by the attempt.
    assert count(conversation) == 3
    edit = {"message_id": str(q1.pk), "content": "other"}
    assert user_client.post(url(conversation, "/edit"), edit, format="json").status_code == 429
    assert count(conversation) == 3


# --- edit -------------------------------------------------------------------------------------


def test_edit_asks_a_new_version_of_the_last_question_keeping_the_old_one(user_client, conversation):
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "secnd", "answer two")
    payload = {"message_id": str(q2.pk), "content": "second, spelt right"}

    response = user_client.post(url(conversation, "/edit"), payload, format="json")

    assert response.status_code == 202, response.content
    body = response.json()
    question, reply = body["user_message"], body["assistant_message"]
    assert (question["content"], question["parent_id"]) == ("second, spelt right", str(a1.pk))
    assert question["sibling_ids"] == [str(q2.pk), question["id"]]
    assert (reply["status"], reply["parent_id"], reply["sibling_ids"]) == ("pending", question["id"], [reply["id"]])
    assert listed(user_client, conversation) == [
        ("user", "first"),
        ("assistant", "answer one"),
        ("user", "second, spelt right"),
        ("assistant", ""),
    ]
    # The old version is untouched and a step away, with its reply.
    q2.refresh_from_db()
    a2.refresh_from_db()
    assert (q2.content, q2.parent_id, a2.content, a2.parent_id) == ("secnd", a1.pk, "answer two", q2.pk)
    assert switch(user_client, conversation, q2.pk)["current_message_id"] == str(a2.pk)
    assert listed(user_client, conversation)[2:] == [("user", "secnd"), ("assistant", "answer two")]
    assert count(conversation) == 6


def test_edit_the_only_question_makes_a_second_first_message(user_client, conversation):
    (question,) = with_turns(conversation, "hello")
    payload = {"message_id": str(question.pk), "content": "hello again"}
    response = user_client.post(url(conversation, "/edit"), payload, format="json")
    assert response.status_code == 202
    edited = response.json()["user_message"]
    assert (edited["parent_id"], edited["sibling_ids"]) == (None, [str(question.pk), edited["id"]])
    assert listed(user_client, conversation) == [("user", "hello again"), ("assistant", "")]


@pytest.mark.parametrize("target", ["earlier question", "reply", "earlier version"])
def test_edit_of_anything_but_the_last_question_is_409(user_client, conversation, target):
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "second", "answer two")
    # An older version of the last question, off the active path.
    old = MessageFactory(conversation=conversation, content="old", parent=a1, created_at=q2.created_at)
    message = {"earlier question": q1, "reply": a2, "earlier version": old}[target]

    response = user_client.post(
        url(conversation, "/edit"), {"message_id": str(message.pk), "content": "new"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "not_last_message"
    assert count(conversation) == 5


def test_edit_while_a_reply_is_in_flight_is_409(user_client, conversation):
    (question,) = with_turns(conversation, "first")
    AssistantMessageFactory(conversation=conversation, status=MessageStatus.PENDING, content="")
    payload = {"message_id": str(question.pk), "content": "new"}
    response = user_client.post(url(conversation, "/edit"), payload, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "generation_in_progress"
    assert count(conversation) == 2


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
    assert count(conversation) == 2


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
    assert count(conversation) == 1


# --- whose ------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["/regenerate", "/edit"])
def test_another_users_conversation_is_404(outsider_client, conversation, suffix):
    (question,) = with_turns(conversation, "first")
    payload = {"message_id": str(question.pk), "content": "mine now"}
    response = outsider_client.post(url(conversation, suffix), payload, format="json")
    assert response.status_code == 404
    assert Message.objects.count() == 1


@pytest.mark.parametrize("suffix", ["/regenerate", "/edit"])
def test_resending_requires_authentication(api_client, conversation, suffix):
    assert api_client.post(url(conversation, suffix), {}, format="json").status_code == 401


# --- the staff view and the statement budget --------------------------------------------------


def test_the_staff_view_of_a_conversation_shows_the_active_path_with_its_versions(staff_client, user, conversation):
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "second", "answer two")
    conversation.current_message = a1
    conversation.save(update_fields=["current_message"])
    newer = AssistantMessageFactory(conversation=conversation, parent=q1, content="answer one, again")
    body = staff_client.get(f"/api/v1/users/{user.pk}/conversations/{conversation.pk}").json()
    assert [m["content"] for m in body["messages"]] == ["first", "answer one, again"]
    assert body["messages"][1]["sibling_ids"] == [str(a1.pk), str(newer.pk)]
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
            # their plan, 4 the conversation's shape (ids and parents: the active path), 5 the
            # last question on it, 6 its reply there, 7 a reply in flight here, 8 the plans allowed
            # to use the model, 9 messages sent today (quota), 10 replies in flight (concurrency),
            # 11 the shape again for the answer's sibling_ids, 12 the question's attachments
            "SELECT": 12,
            # the new reply and its ledger entry
            "INSERT": 2,
            # the conversation's current leaf and updated_at
            "UPDATE": 1,
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
def test_the_model_is_sent_only_the_path_above_the_reply(user_client, user, upstream):  # noqa: F811
    model = upstream_model(upstream, "burst:3")
    conversation = ConversationFactory(owner=user, model=model, system_prompt="Be brief.")
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "secnd", "answer two")

    before = len(upstream.requests)
    response = user_client.post(url(conversation, "/regenerate?wait=true"), {}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["assistant_message"]["content"] == expected_text(3)
    assert response.json()["user_message"]["id"] == str(q2.pk)
    edit = {"message_id": str(q2.pk), "content": "second"}
    response = user_client.post(url(conversation, "/edit?wait=true"), edit, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["assistant_message"]["status"] == "complete"

    regenerated, edited = (request["messages"] for request in upstream.requests[before:])
    history = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "answer one"},
    ]
    # Neither the reply it replaces nor the other version of the question.
    assert regenerated == [*history, {"role": "user", "content": "secnd"}]
    assert edited == [*history, {"role": "user", "content": "second"}]
    assert listed(user_client, conversation) == [
        ("user", "first"),
        ("assistant", "answer one"),
        ("user", "second"),
        ("assistant", expected_text(3)),
    ]
    # Everything kept: the first versions, the regenerated reply, the edit and its reply.
    texts = Counter(Message.objects.filter(conversation=conversation).values_list("content", flat=True))
    assert texts == Counter(
        {"first": 1, "answer one": 1, "secnd": 1, "answer two": 1, "second": 1, expected_text(3): 2}
    )


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
