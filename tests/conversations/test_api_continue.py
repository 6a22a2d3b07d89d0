"""POST /conversations/{id}/messages/{message_id}/continue: a reply cut at the output limit goes on
in a new reply, asked for like any other (limits, quota, stream), with the cut one as the last
assistant turn the model reads."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from accounts import services as account_services
from conversations.llm.context import CONTINUE_INSTRUCTION, build_messages
from conversations.models import LedgerEntry, LLMModel, Message, MessageStatus, Role
from tests.conversations.factories import AssistantMessageFactory, ConversationFactory, MessageFactory
from tests.conversations.sse import iter_events
from tests.conversations.test_api_resend import set_plan
from tests.conversations.upstream import expected_text, upstream  # noqa: F401

pytestmark = pytest.mark.django_db


def continue_url(conversation, message) -> str:
    return f"/api/v1/conversations/{conversation.pk}/messages/{message.pk}/continue"


@pytest.fixture
def conversation(user):
    return ConversationFactory(owner=user)


def cut_turn(conversation, *, question="Write a long story.", answer="Once upon a time", **reply_fields) -> Message:
    """A question and its reply, which stopped at the output limit, a minute ago."""
    start = timezone.now() - timedelta(minutes=1)
    MessageFactory(conversation=conversation, content=question, created_at=start)
    fields = {"status": MessageStatus.COMPLETE, "finish_reason": "length", **reply_fields}
    return AssistantMessageFactory(
        conversation=conversation, content=answer, created_at=start + timedelta(seconds=1), **fields
    )


# --- what is made -----------------------------------------------------------------------------


def test_continue_makes_a_new_pending_reply_after_the_cut_one(
    user_client, conversation, django_capture_on_commit_callbacks
):
    cut = cut_turn(conversation)
    entries = LedgerEntry.objects.count()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = user_client.post(continue_url(conversation, cut), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"assistant_message", "stream_url"}
    reply = body["assistant_message"]
    assert (reply["role"], reply["status"], reply["content"]) == ("assistant", "pending", "")
    assert reply["continues"] == str(cut.pk)
    assert reply["id"] != str(cut.pk)
    assert body["stream_url"] == f"/api/v1/conversations/{conversation.pk}/stream"
    assert len(callbacks) == 1  # the reply starts once the transaction commits
    # No question is added; the new reply goes under the cut one, which stays as it was.
    assert list(Message.objects.filter(conversation=conversation).values_list("role", flat=True)) == [
        Role.USER,
        Role.ASSISTANT,
        Role.ASSISTANT,
    ]
    assert reply["parent_id"] == str(cut.pk)
    conversation.refresh_from_db()
    assert str(conversation.current_message_id) == reply["id"]
    cut.refresh_from_db()
    assert (cut.content, cut.finish_reason) == ("Once upon a time", "length")
    # A reply asked for: one more entry in the ledger the quota counts.
    assert LedgerEntry.objects.count() == entries + 1
    assert LedgerEntry.objects.filter(message_id=reply["id"], user=conversation.owner).exists()


def test_the_message_list_says_which_reply_was_cut(user_client, conversation):
    cut = cut_turn(conversation)
    rows = user_client.get(f"/api/v1/conversations/{conversation.pk}/messages").json()["results"]
    assert [(row["role"], row["finish_reason"], row["continues"]) for row in rows] == [
        ("user", "", None),
        ("assistant", "length", None),
    ]
    response = user_client.post(continue_url(conversation, cut), format="json")
    rows = user_client.get(f"/api/v1/conversations/{conversation.pk}/messages").json()["results"]
    assert rows[-1]["id"] == response.json()["assistant_message"]["id"]
    assert rows[-1]["continues"] == str(cut.pk)


# --- refusals ---------------------------------------------------------------------------------


def test_a_reply_that_is_not_the_last_message_is_409(user_client, conversation):
    cut = cut_turn(conversation)
    MessageFactory(conversation=conversation, content="Never mind.")
    response = user_client.post(continue_url(conversation, cut), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "not_last_message"
    assert Message.objects.filter(conversation=conversation).count() == 3


def test_a_cut_reply_with_a_later_question_on_another_branch_is_409(user_client, conversation):
    cut = cut_turn(conversation)
    # Asked under it, then stepped back to it: it has a child, though it is the current leaf.
    MessageFactory(conversation=conversation, content="Never mind.", parent=cut)
    conversation.current_message = cut
    conversation.save(update_fields=["current_message"])
    response = user_client.post(continue_url(conversation, cut), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "not_last_message"


def test_a_cut_reply_off_the_active_path_can_be_continued(user_client, conversation):
    cut = cut_turn(conversation)
    newer = AssistantMessageFactory(conversation=conversation, parent=cut.parent, content="Another version")
    conversation.refresh_from_db()
    assert conversation.current_message_id == newer.pk
    response = user_client.post(continue_url(conversation, cut), format="json")
    assert response.status_code == 201, response.content
    conversation.refresh_from_db()
    assert str(conversation.current_message_id) == response.json()["assistant_message"]["id"]


def test_a_user_message_is_409(user_client, conversation):
    cut_turn(conversation)
    question = MessageFactory(conversation=conversation, content="Go on.")
    response = user_client.post(continue_url(conversation, question), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "not_assistant_message"


@pytest.mark.parametrize(
    "fields",
    [
        {"finish_reason": "stop"},
        {"finish_reason": ""},  # the upstream did not say
        {"status": MessageStatus.STOPPED, "finish_reason": ""},
        {"status": MessageStatus.ERROR, "finish_reason": "", "error_code": "upstream_error"},
        {"status": MessageStatus.INTERRUPTED, "finish_reason": "length"},
    ],
)
def test_a_reply_not_cut_at_the_limit_is_409(user_client, conversation, fields):
    reply = cut_turn(conversation, **fields)
    response = user_client.post(continue_url(conversation, reply), format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "not_cut_off"
    assert "length limit" in body["detail"]
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_a_reply_in_flight_is_409(user_client, conversation):
    reply = cut_turn(conversation, status=MessageStatus.STREAMING, finish_reason="", answer="so far")
    response = user_client.post(continue_url(conversation, reply), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "generation_in_progress"
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_a_reply_in_flight_on_another_branch_does_not_block_a_continue(user_client, user, conversation):
    set_plan(user, "plus", max_concurrent_generations=2)
    cut = cut_turn(conversation)
    AssistantMessageFactory(conversation=conversation, parent=cut.parent, status=MessageStatus.STREAMING)
    response = user_client.post(continue_url(conversation, cut), format="json")
    assert response.status_code == 201, response.content


def test_a_message_of_another_conversation_is_404(user_client, user, conversation):
    other = cut_turn(ConversationFactory(owner=user))
    response = user_client.post(continue_url(conversation, other), format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "message_not_found"


def test_another_users_conversation_is_404(outsider_client, conversation):
    cut = cut_turn(conversation)
    response = outsider_client.post(continue_url(conversation, cut), format="json")
    assert response.status_code == 404
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_a_malformed_message_id_is_404(user_client, conversation):
    cut_turn(conversation)
    response = user_client.post(f"/api/v1/conversations/{conversation.pk}/messages/not-a-uuid/continue")
    assert response.status_code == 404


def test_continuing_requires_authentication(api_client, conversation):
    cut = cut_turn(conversation)
    assert api_client.post(continue_url(conversation, cut), format="json").status_code == 401


def test_continuing_costs_one_message_of_the_daily_quota(user_client, user, conversation):
    set_plan(user, "free", daily_message_limit=2)
    cut = cut_turn(conversation)  # one message sent today

    response = user_client.post(continue_url(conversation, cut), format="json")
    assert response.status_code == 201
    Message.objects.filter(status=MessageStatus.PENDING).update(status=MessageStatus.COMPLETE, finish_reason="length")
    usage = user_client.get("/api/v1/user/settings/subscription").json()["usage_today"]
    assert usage["messages_sent"] == 2

    again = Message.objects.get(pk=response.json()["assistant_message"]["id"])
    response = user_client.post(continue_url(conversation, again), format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "daily_quota_exceeded"
    assert Message.objects.filter(conversation=conversation).count() == 3


# --- what the model is sent -------------------------------------------------------------------


def test_build_messages_keeps_the_cut_reply_and_the_instruction_last():
    history = [
        {"role": "user", "content": "old " * 400},
        {"role": "assistant", "content": "old answer " * 200},
        {"role": "user", "content": "Write a story."},
        {"role": "assistant", "content": "Once upon a time " * 40},
    ]
    messages, max_tokens = build_messages(
        system_prompt="Be kind.",
        context_text="",
        history=history,
        context_window=512,
        max_output_tokens=128,
        continuation=True,
    )
    assert max_tokens == 128
    assert messages[0] == {"role": "system", "content": "Be kind."}
    # The oldest turns went; the question, the cut reply and the instruction stay, in order.
    assert messages[1:] == [
        {"role": "user", "content": "Write a story."},
        {"role": "assistant", "content": "Once upon a time " * 40},
        {"role": "user", "content": CONTINUE_INSTRUCTION},
    ]


def upstream_model(upstream, mode: str, *, max_output_tokens: int) -> LLMModel:  # noqa: F811
    return LLMModel.objects.create(
        slug=mode.replace(":", "-"),
        display_name=mode,
        provider="openai",
        upstream_model=mode,
        base_url=upstream.base_url,
        request_timeout_seconds=5.0,
        context_window=4096,
        max_output_tokens=max_output_tokens,
    )


@pytest.mark.django_db(transaction=True)  # ?wait=true: the reply starts after commit
def test_the_model_is_sent_the_cut_reply_then_asked_to_go_on(user_client, user, upstream):  # noqa: F811
    # The fake upstream stops at max_tokens and says "length", as real servers do.
    model = upstream_model(upstream, "burst:20", max_output_tokens=5)
    conversation = ConversationFactory(owner=user, model=model, system_prompt="Be brief.")
    base = f"/api/v1/conversations/{conversation.pk}"

    sent = user_client.post(f"{base}/messages?wait=true", {"content": "Count for me."}, format="json").json()
    cut = sent["assistant_message"]
    assert (cut["status"], cut["finish_reason"], cut["content"]) == ("complete", "length", expected_text(5))

    before = len(upstream.requests)
    response = user_client.post(f"{base}/messages/{cut['id']}/continue?wait=true", format="json")
    assert response.status_code == 201, response.content
    first = response.json()["assistant_message"]
    assert (first["status"], first["continues"], first["content"]) == ("complete", cut["id"], expected_text(5))
    assert first["finish_reason"] == "length"  # cut again: it can go on again

    response = user_client.post(f"{base}/messages/{first['id']}/continue?wait=true", format="json")
    assert response.status_code == 201, response.content
    second = response.json()["assistant_message"]
    assert second["continues"] == first["id"]

    once, twice = (request for request in upstream.requests[before:])
    asked = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Count for me."},
        {"role": "assistant", "content": expected_text(5)},
    ]
    go_on = {"role": "user", "content": CONTINUE_INSTRUCTION}
    assert once["messages"] == [*asked, go_on]
    # The instruction is never part of the history, and the cut reply and its continuation are
    # one answer (no two assistant turns in a row, which strict chat templates refuse).
    assert twice["messages"] == [*asked[:-1], {"role": "assistant", "content": expected_text(5) * 2}, go_on]
    assert once["max_tokens"] == twice["max_tokens"] == 5

    rows = user_client.get(f"{base}/messages").json()["results"]
    assert [(row["role"], row["continues"]) for row in rows] == [
        ("user", None),
        ("assistant", None),
        ("assistant", cut["id"]),
        ("assistant", first["id"]),
    ]


@pytest.mark.django_db(transaction=True)
def test_the_continued_reply_streams(asgi_server, upstream, user):  # noqa: F811
    model = upstream_model(upstream, "normal:20", max_output_tokens=64)
    conversation = ConversationFactory(owner=user, model=model)
    cut = cut_turn(conversation)
    session = account_services.session_start(user=user, login_type="local", device_id=None)
    headers = {"Authorization": f"Bearer {session.tokens.access}"}

    response = httpx.post(asgi_server + continue_url(conversation, cut), headers=headers, timeout=20)
    assert response.status_code == 201, response.text
    reply_id = response.json()["assistant_message"]["id"]
    with httpx.stream("GET", asgi_server + response.json()["stream_url"], headers=headers, timeout=20) as stream:
        assert stream.status_code == 200
        events = list(iter_events(stream))

    assert {e.data["message_id"] for e in events} == {reply_id}
    assert "".join(e.data["text"] for e in events if e.name in ("snapshot", "delta")) == expected_text(20)
    assert (events[-1].name, events[-1].data["status"], events[-1].data["finish_reason"]) == (
        "message.done",
        "complete",
        "stop",
    )
    assert Message.objects.get(pk=reply_id).content == expected_text(20)
