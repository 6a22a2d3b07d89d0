"""GET/POST /conversations/{id}/messages, plan limits, /stop and /feedback."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Plan, UserSettings
from conversations.models import Feedback, Message, MessageStatus
from tests.conversations.factories import (
    AssistantMessageFactory,
    ConversationFactory,
    FeedbackFactory,
    LLMModelFactory,
    MessageFactory,
    turn,
)

pytestmark = pytest.mark.django_db


def url(conversation, suffix="/messages") -> str:
    return f"/api/v1/conversations/{conversation.pk}{suffix}"


@pytest.fixture
def conversation(user):
    return ConversationFactory(owner=user)


def set_plan(user, slug: str, **limits) -> Plan:
    plan = Plan.objects.get(slug=slug)
    if limits:
        Plan.objects.filter(pk=plan.pk).update(**limits)
    UserSettings.objects.filter(user=user).update(plan=plan)
    return plan


# --- list -------------------------------------------------------------------------------------


def test_messages_are_listed_oldest_first_across_cursor_pages(user_client, conversation):
    start = timezone.now() - timedelta(hours=1)
    created = [
        MessageFactory(conversation=conversation, content=f"m{i}", created_at=start + timedelta(seconds=i))
        for i in range(7)
    ]
    seen, next_url = [], url(conversation) + "?page_size=3"
    while next_url:
        response = user_client.get(next_url)
        assert response.status_code == 200
        body = response.json()
        seen += [row["content"] for row in body["results"]]
        next_url = body["next"]
    assert seen == [m.content for m in created]


def test_a_new_message_does_not_shift_a_page_already_read(user_client, conversation):
    start = timezone.now() - timedelta(hours=1)
    for i in range(4):
        MessageFactory(conversation=conversation, content=f"m{i}", created_at=start + timedelta(seconds=i))
    first = user_client.get(url(conversation) + "?page_size=2").json()
    MessageFactory(conversation=conversation, content="late")
    second = user_client.get(first["next"]).json()
    assert [row["content"] for row in second["results"]] == ["m2", "m3"]


def test_message_payload_carries_status_tokens_and_my_rating(user_client, user, conversation):
    reply = AssistantMessageFactory(
        conversation=conversation, prompt_tokens=12, completion_tokens=4, finish_reason="length"
    )
    FeedbackFactory(message=reply, user=user, rating="down")
    row = user_client.get(url(conversation)).json()["results"][0]
    assert row["id"] == str(reply.pk)
    assert (row["role"], row["status"], row["model"]) == ("assistant", "complete", "smollm2-135m")
    assert (row["prompt_tokens"], row["completion_tokens"], row["my_rating"]) == (12, 4, "down")
    assert row["finish_reason"] == "length", "a reply cut at its token limit says so after a reload"


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_message_list_query_count_is_the_same_for_1_and_100_rows(
    user_client, user, conversation, django_assert_num_queries
):
    reply = AssistantMessageFactory(conversation=conversation)
    FeedbackFactory(message=reply, user=user)
    # device session (auth), the conversation, its shape (the active path and every message's
    # versions), the page of messages with models and ratings, the attachments of the page's
    # messages (one prefetch).
    with django_assert_num_queries(5):
        user_client.get(url(conversation))
    one = _queries(user_client, url(conversation))
    for _ in range(50):
        MessageFactory(conversation=conversation)
        FeedbackFactory(message=AssistantMessageFactory(conversation=conversation), user=user)
    with django_assert_num_queries(5):
        response = user_client.get(url(conversation) + "?page_size=100")
    assert len(response.json()["results"]) == 100
    assert _queries(user_client, url(conversation)) == one


def test_message_list_requires_authentication(api_client, conversation):
    assert api_client.get(url(conversation)).status_code == 401


# --- send -------------------------------------------------------------------------------------


def test_send_returns_202_with_a_pending_reply_and_starts_it_after_commit(
    user_client, conversation, django_capture_on_commit_callbacks
):
    before = conversation.updated_at
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = user_client.post(url(conversation), {"content": "What is 2+2?"}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["user_message"]["content"] == "What is 2+2?"
    assert body["user_message"]["status"] == "complete"
    assert body["assistant_message"]["status"] == "pending"
    assert body["assistant_message"]["content"] == ""
    assert body["stream_url"] == url(conversation, "/stream")
    assert len(callbacks) == 1
    conversation.refresh_from_db()
    assert conversation.updated_at > before
    roles = list(conversation.messages.order_by("created_at", "id").values_list("role", flat=True))
    assert roles == ["user", "assistant"]


def test_send_with_another_model_switches_the_conversation(user_client, conversation):
    LLMModelFactory(slug="other")
    response = user_client.post(url(conversation), {"content": "hi", "model": "other"}, format="json")
    assert response.status_code == 202
    assert response.json()["assistant_message"]["model"] == "other"
    conversation.refresh_from_db()
    assert conversation.model.slug == "other"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "content"),
        ({"content": ""}, "content"),
        ({"content": "  \n "}, "content"),
        ({"content": ["a list"]}, "content"),
        ({"content": "hi", "model": "no-such-model"}, "model"),
        ({"content": "hi", "model": "gpt-4o-mini"}, "model"),  # disabled
    ],
)
def test_send_rejects_bad_input_naming_the_field(user_client, conversation, payload, field):
    response = user_client.post(url(conversation), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not conversation.messages.exists()


def test_send_rejects_content_over_the_size_limit(user_client, conversation, settings):
    settings.CHAT = {**settings.CHAT, "MAX_MESSAGE_CHARS": 10}
    response = user_client.post(url(conversation), {"content": "x" * 11}, format="json")
    assert response.status_code == 400
    assert "content" in response.json()


def test_send_rejects_a_bad_wait_flag(user_client, conversation):
    response = user_client.post(url(conversation) + "?wait=perhaps", {"content": "hi"}, format="json")
    assert response.status_code == 400
    assert "wait" in response.json()


def test_send_requires_authentication(api_client, conversation):
    assert api_client.post(url(conversation), {"content": "hi"}, format="json").status_code == 401


def test_model_restricted_to_a_plan(user_client, user, conversation):
    premium = LLMModelFactory(slug="premium")
    premium.plans.set([Plan.objects.get(slug="plus")])
    response = user_client.post(url(conversation), {"content": "hi", "model": "premium"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "model_not_in_plan" and "premium" in response.json()["detail"]

    set_plan(user, "plus")
    response = user_client.post(url(conversation), {"content": "hi", "model": "premium"}, format="json")
    assert response.status_code == 202
    assert response.json()["assistant_message"]["model"] == "premium"


# --- plan limits ------------------------------------------------------------------------------


def test_daily_quota_gives_429_with_code_and_retry_after(user_client, user, conversation):
    set_plan(user, "free", daily_message_limit=2)
    other = ConversationFactory(owner=user)
    turn(other)
    # Yesterday's messages do not count.
    turn(other, created_at=timezone.now() - timedelta(days=1, hours=1))
    assert user_client.post(url(conversation), {"content": "second"}, format="json").status_code == 202
    Message.objects.filter(status=MessageStatus.PENDING).update(status=MessageStatus.COMPLETE)

    response = user_client.post(url(conversation), {"content": "third"}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "daily_quota_exceeded"
    assert 0 < int(response["Retry-After"]) <= 24 * 3600
    assert conversation.messages.filter(content="third").count() == 0


def test_a_staff_quota_reset_lets_the_user_send_again_today(user_client, user, conversation):
    from conversations.quota import quota_reset

    set_plan(user, "free", daily_message_limit=1)
    turn(conversation)
    assert user_client.post(url(conversation), {"content": "over"}, format="json").status_code == 429

    assert quota_reset(settings_rows=UserSettings.objects.filter(user=user)) == 1

    assert user_client.get("/api/v1/user/settings/subscription").json()["usage_today"]["messages_sent"] == 0
    assert user_client.post(url(conversation), {"content": "again"}, format="json").status_code == 202
    Message.objects.filter(status=MessageStatus.PENDING).update(status=MessageStatus.COMPLETE)
    # The reset gave one day's quota back, not an unlimited one.
    assert user_client.post(url(conversation), {"content": "over again"}, format="json").status_code == 429


def test_unlimited_plan_has_no_daily_quota(user_client, user, conversation):
    set_plan(user, "pro", daily_message_limit=0)  # 0 = unlimited
    for _ in range(3):
        turn(conversation)
    assert user_client.post(url(conversation), {"content": "more"}, format="json").status_code == 202


def test_the_quota_counts_only_my_messages(user_client, user, outsider, conversation):
    set_plan(user, "free", daily_message_limit=1)
    turn(ConversationFactory(owner=outsider))
    assert user_client.post(url(conversation), {"content": "mine"}, format="json").status_code == 202


def test_too_many_generations_gives_429(user_client, user, conversation):
    set_plan(user, "free", max_concurrent_generations=1)
    AssistantMessageFactory(conversation=ConversationFactory(owner=user), status=MessageStatus.STREAMING)
    response = user_client.post(url(conversation), {"content": "hi"}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_generations"
    assert not conversation.messages.exists()


def test_finished_replies_do_not_count_as_generations(user_client, user, conversation):
    set_plan(user, "free", max_concurrent_generations=1)
    for status in (MessageStatus.COMPLETE, MessageStatus.ERROR, MessageStatus.STOPPED, MessageStatus.INTERRUPTED):
        AssistantMessageFactory(conversation=conversation, status=status)
    assert user_client.post(url(conversation), {"content": "hi"}, format="json").status_code == 202


def test_a_second_reply_in_the_same_conversation_waits_for_the_first(user_client, user, conversation):
    set_plan(user, "plus", max_concurrent_generations=2)
    AssistantMessageFactory(conversation=conversation, status=MessageStatus.PENDING)
    response = user_client.post(url(conversation), {"content": "hi"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "generation_in_progress"
    # Another conversation is fine within the plan's two generations.
    other = ConversationFactory(owner=user)
    assert user_client.post(url(other), {"content": "hi"}, format="json").status_code == 202


# --- stop -------------------------------------------------------------------------------------


def test_stop_with_nothing_in_flight_is_409(user_client, conversation):
    AssistantMessageFactory(conversation=conversation, status=MessageStatus.COMPLETE)
    response = user_client.post(url(conversation, "/stop"))
    assert response.status_code == 409
    assert response.json()["code"] == "nothing_in_flight"


def test_stop_requires_authentication(api_client, conversation):
    assert api_client.post(url(conversation, "/stop")).status_code == 401


# --- feedback ---------------------------------------------------------------------------------


def test_feedback_is_created_then_changed(user_client, user, conversation):
    reply = AssistantMessageFactory(conversation=conversation)
    response = user_client.post(
        url(conversation, "/feedback"), {"message_id": str(reply.pk), "rating": "up"}, format="json"
    )
    assert response.status_code == 201
    assert (response.json()["rating"], response.json()["message_id"]) == ("up", str(reply.pk))

    response = user_client.post(
        url(conversation, "/feedback"),
        {"message_id": str(reply.pk), "rating": "down", "comment": "Wrong answer."},
        format="json",
    )
    assert response.status_code == 200
    feedback = Feedback.objects.get(user=user, message=reply)
    assert (feedback.rating, feedback.comment) == ("down", "Wrong answer.")
    assert Feedback.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"rating": "up"}, "message_id"),
        ({"message_id": "not-a-uuid", "rating": "up"}, "message_id"),
        ({"message_id": "REPLY"}, "rating"),
        ({"message_id": "REPLY", "rating": "meh"}, "rating"),
        ({"message_id": "REPLY", "rating": "up", "comment": "x" * 2001}, "comment"),
        ({"message_id": "USER", "rating": "up"}, "message_id"),  # not an assistant message
    ],
)
def test_feedback_rejects_bad_input(user_client, user, outsider, conversation, payload, field):
    ids = {
        "REPLY": AssistantMessageFactory(conversation=conversation).pk,
        "USER": MessageFactory(conversation=conversation).pk,
    }
    if payload.get("message_id") in ids:
        payload = {**payload, "message_id": str(ids[payload["message_id"]])}
    response = user_client.post(url(conversation, "/feedback"), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Feedback.objects.exists()


def test_feedback_on_a_message_of_another_conversation_is_404(user_client, outsider, conversation):
    elsewhere = AssistantMessageFactory(conversation=ConversationFactory(owner=outsider))
    payload = {"message_id": str(elsewhere.pk), "rating": "up"}
    response = user_client.post(url(conversation, "/feedback"), payload, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "message_not_found"
    assert not Feedback.objects.exists()


def test_feedback_requires_authentication(api_client, conversation):
    reply = AssistantMessageFactory(conversation=conversation)
    response = api_client.post(url(conversation, "/feedback"), {"message_id": str(reply.pk), "rating": "up"})
    assert response.status_code == 401
