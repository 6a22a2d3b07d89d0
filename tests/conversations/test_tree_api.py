"""The API of a conversation as a tree (issue 22): parent_id and sibling_ids on every message,
current_message_id, sending under any reply, regenerating any reply, switching versions,
"branch in new chat", stopping one reply, two tabs at once, and the issue's "Done when"."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Plan, UserSettings
from conversations.models import Conversation, LLMModel, Message, MessageStatus, OriginKind
from tests.conversations.attached import text_model
from tests.conversations.factories import AssistantMessageFactory, ConversationFactory, MessageFactory
from tests.conversations.test_api_resend import set_plan, url, with_turns
from tests.conversations.upstream import expected_text, upstream  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(user):
    return ConversationFactory(owner=user, title="Trip")


def rows(client, conversation) -> list[dict]:
    response = client.get(url(conversation, "/messages"))
    assert response.status_code == 200
    return response.json()["results"]


def contents(client, conversation) -> list[str]:
    return [row["content"] for row in rows(client, conversation)]


def send(client, conversation, content: str, **extra):
    return client.post(url(conversation, "/messages"), {"content": content, **extra}, format="json")


def switch(client, conversation, message_id):
    return client.patch(url(conversation, ""), {"current_message_id": str(message_id)}, format="json")


def ids(*messages) -> list[str]:
    return [str(m.pk) for m in messages]


# --- what every message carries ---------------------------------------------------------------


def test_listed_messages_carry_parent_id_and_sibling_ids(user_client, conversation):
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "second", "answer two")
    b2 = AssistantMessageFactory(conversation=conversation, parent=q2, content="answer two, again")

    listed = rows(user_client, conversation)

    assert [row["id"] for row in listed] == ids(q1, a1, q2, b2)
    assert [row["parent_id"] for row in listed] == [None, *ids(q1, a1, q2)]
    assert [row["sibling_ids"] for row in listed] == [ids(q1), ids(a1), ids(q2), ids(a2, b2)]
    detail = user_client.get(url(conversation, "")).json()
    assert (detail["current_message_id"], detail["message_count"]) == (str(b2.pk), 4)


def test_an_empty_conversation_has_no_current_message(user_client, conversation):
    detail = user_client.get(url(conversation, "")).json()
    assert (detail["current_message_id"], detail["message_count"]) == (None, 0)
    assert rows(user_client, conversation) == []


def test_the_post_response_carries_parent_id_and_sibling_ids(user_client, conversation):
    q1, a1 = with_turns(conversation, "first", "answer one")
    response = send(user_client, conversation, "second")
    assert response.status_code == 202, response.content
    question, reply = response.json()["user_message"], response.json()["assistant_message"]
    assert (question["parent_id"], question["sibling_ids"]) == (str(a1.pk), [question["id"]])
    assert (reply["parent_id"], reply["sibling_ids"]) == (question["id"], [reply["id"]])
    assert user_client.get(url(conversation, "")).json()["current_message_id"] == reply["id"]


# --- sending under a chosen reply -------------------------------------------------------------


def test_a_message_goes_under_the_current_leaf_by_default(user_client, conversation):
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "second", "answer two")
    # Another version of the first answer: it is the current leaf, and a message goes under it.
    regenerated = user_client.post(url(conversation, f"/messages/{a1.pk}/regenerate"), {}, format="json").json()
    other = regenerated["assistant_message"]["id"]
    Message.objects.filter(pk=other).update(status="complete", content="answer one, again")
    response = send(user_client, conversation, "after the other answer")
    assert response.status_code == 202, response.content
    question = response.json()["user_message"]
    assert (question["parent_id"], question["sibling_ids"]) == (other, [question["id"]])
    assert contents(user_client, conversation) == ["first", "answer one, again", "after the other answer", ""]

    # Back to the first answer: the path runs down to its newest leaf, a2, and a message goes there.
    assert switch(user_client, conversation, a1.pk).json()["current_message_id"] == str(a2.pk)
    Message.objects.filter(conversation=conversation, status="pending").update(status="complete")
    response = send(user_client, conversation, "third")
    assert response.status_code == 202, response.content
    assert response.json()["user_message"]["parent_id"] == str(a2.pk)
    assert contents(user_client, conversation) == ["first", "answer one", "second", "answer two", "third", ""]


def test_a_message_under_a_chosen_reply_is_a_new_version_of_what_followed_it(user_client, conversation):
    q1, a1, q2, a2, q3, a3 = with_turns(conversation, "one", "a-one", "two", "a-two", "three", "a-three")
    response = send(user_client, conversation, "two, edited", parent_id=str(a1.pk))
    assert response.status_code == 202, response.content
    question = response.json()["user_message"]
    assert question["sibling_ids"] == [str(q2.pk), question["id"]]
    assert contents(user_client, conversation) == ["one", "a-one", "two, edited", ""]
    # The turns below the old version are all there, a step away.
    assert switch(user_client, conversation, q2.pk).json()["current_message_id"] == str(a3.pk)
    assert contents(user_client, conversation) == ["one", "a-one", "two", "a-two", "three", "a-three"]


def test_parent_id_null_is_a_new_first_message(user_client, conversation):
    q1, a1 = with_turns(conversation, "first", "answer one")
    response = send(user_client, conversation, "first, edited", parent_id=None)
    assert response.status_code == 202, response.content
    question = response.json()["user_message"]
    assert (question["parent_id"], question["sibling_ids"]) == (None, [str(q1.pk), question["id"]])
    assert contents(user_client, conversation) == ["first, edited", ""]


@pytest.mark.parametrize("target", ["a user message", "another conversation's reply", "no message", "not an id"])
def test_a_parent_that_is_not_a_reply_here_is_400_naming_parent_id(user_client, user, conversation, target):
    q1, a1 = with_turns(conversation, "first", "answer one")
    elsewhere = AssistantMessageFactory(conversation=ConversationFactory(owner=user))
    parent_id = {
        "a user message": str(q1.pk),
        "another conversation's reply": str(elsewhere.pk),
        "no message": "00000000-0000-4000-8000-000000000000",
        "not an id": "not-a-uuid",
    }[target]
    before = Message.objects.count()

    response = send(user_client, conversation, "hello", parent_id=parent_id)

    assert response.status_code == 400, response.content
    assert "parent_id" in response.json()
    assert Message.objects.count() == before


def test_a_parent_still_being_written_is_409(user_client, user, conversation):
    set_plan(user, "plus", max_concurrent_generations=2)
    (q1,) = with_turns(conversation, "first")
    writing = AssistantMessageFactory(conversation=conversation, status=MessageStatus.STREAMING, content="so")
    response = send(user_client, conversation, "hello", parent_id=str(writing.pk))
    assert response.status_code == 409
    assert response.json()["code"] == "generation_in_progress"
    # By default too: the current leaf is that reply.
    assert send(user_client, conversation, "hello").json()["code"] == "generation_in_progress"
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_a_reply_on_another_branch_may_run_while_one_is_asked_here(user_client, user, conversation):
    set_plan(user, "plus", max_concurrent_generations=2)
    q1, a1 = with_turns(conversation, "first", "answer one")
    AssistantMessageFactory(conversation=conversation, parent=q1, status=MessageStatus.STREAMING)
    response = send(user_client, conversation, "second", parent_id=str(a1.pk))
    assert response.status_code == 202, response.content


# --- regenerating any reply -------------------------------------------------------------------


def test_any_reply_can_be_regenerated_and_becomes_current(user_client, conversation):
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "second", "answer two")

    response = user_client.post(url(conversation, f"/messages/{a1.pk}/regenerate"), {}, format="json")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["user_message"]["id"] == str(q1.pk)
    reply = body["assistant_message"]
    assert (reply["parent_id"], reply["sibling_ids"]) == (str(q1.pk), [str(a1.pk), reply["id"]])
    assert [row["id"] for row in rows(user_client, conversation)] == [str(q1.pk), reply["id"]]
    assert user_client.get(url(conversation, "")).json()["current_message_id"] == reply["id"]
    assert Message.objects.filter(conversation=conversation).count() == 5
    # The turns after the old reply are kept under it.
    assert switch(user_client, conversation, a1.pk).json()["current_message_id"] == str(a2.pk)
    assert contents(user_client, conversation) == ["first", "answer one", "second", "answer two"]


def test_regenerating_a_reply_refusals(user_client, user, conversation):
    set_plan(user, "plus", max_concurrent_generations=2)
    q1, a1 = with_turns(conversation, "first", "answer one")
    writing = AssistantMessageFactory(conversation=conversation, parent=q1, status=MessageStatus.PENDING)
    other = AssistantMessageFactory(conversation=ConversationFactory(owner=user))
    before = Message.objects.count()

    def regenerate(message_id):
        return user_client.post(url(conversation, f"/messages/{message_id}/regenerate"), {}, format="json")

    assert (regenerate(writing.pk).status_code, regenerate(writing.pk).json()["code"]) == (
        409,
        "generation_in_progress",
    )
    assert (regenerate(q1.pk).status_code, regenerate(q1.pk).json()["code"]) == (409, "not_assistant_message")
    assert (regenerate(other.pk).status_code, regenerate(other.pk).json()["code"]) == (404, "message_not_found")
    assert Message.objects.count() == before


def test_regenerating_another_users_reply_is_404(outsider_client, conversation):
    q1, a1 = with_turns(conversation, "first", "answer one")
    response = outsider_client.post(url(conversation, f"/messages/{a1.pk}/regenerate"), {}, format="json")
    assert response.status_code == 404
    assert Message.objects.count() == 2


# --- switching versions -----------------------------------------------------------------------


def test_switching_goes_down_the_newest_descendants_and_keeps_updated_at(user_client, conversation):
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "second", "answer two")
    b1 = AssistantMessageFactory(conversation=conversation, parent=q1, content="answer one, again")
    older_q2 = MessageFactory(conversation=conversation, parent=a1, content="second, older", created_at=q2.created_at)
    # A newer branch below a1 than q2 would be picked: q3 is asked under a1 after q2.
    q3 = MessageFactory(conversation=conversation, parent=a1, content="second, newest")
    a3 = AssistantMessageFactory(conversation=conversation, parent=q3, content="answer to newest")
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=timezone.now() - timedelta(days=3))
    updated_at = user_client.get(url(conversation, "")).json()["updated_at"]

    body = switch(user_client, conversation, a1.pk).json()

    assert body["current_message_id"] == str(a3.pk)
    assert body["updated_at"] == updated_at
    assert contents(user_client, conversation) == ["first", "answer one", "second, newest", "answer to newest"]
    assert switch(user_client, conversation, q2.pk).json()["current_message_id"] == str(a2.pk)
    assert switch(user_client, conversation, b1.pk).json()["current_message_id"] == str(b1.pk)
    assert contents(user_client, conversation) == ["first", "answer one, again"]
    assert switch(user_client, conversation, older_q2.pk).json()["current_message_id"] == str(older_q2.pk)
    assert user_client.get(url(conversation, "")).json()["updated_at"] == updated_at


@pytest.mark.parametrize("target", ["another conversation's", "no message", "not an id"])
def test_switching_to_a_message_not_here_is_400(user_client, user, conversation, target):
    q1, a1 = with_turns(conversation, "first", "answer one")
    elsewhere = MessageFactory(conversation=ConversationFactory(owner=user))
    value = {
        "another conversation's": str(elsewhere.pk),
        "no message": "00000000-0000-4000-8000-000000000000",
        "not an id": "nope",
    }[target]
    response = user_client.patch(url(conversation, ""), {"current_message_id": value}, format="json")
    assert response.status_code == 400
    assert "current_message_id" in response.json()
    conversation.refresh_from_db()
    assert conversation.current_message_id == a1.pk


def test_switching_another_users_conversation_is_404(outsider_client, conversation):
    q1, a1 = with_turns(conversation, "first", "answer one")
    response = outsider_client.patch(url(conversation, ""), {"current_message_id": str(q1.pk)}, format="json")
    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.current_message_id == a1.pk


# --- branch in new chat -----------------------------------------------------------------------


def test_branch_copies_the_path_into_a_new_conversation(user_client, user, conversation):
    q1, a1, q2, a2, q3, a3 = with_turns(conversation, "one", "a-one", "two", "a-two", "three", "a-three")
    AssistantMessageFactory(conversation=conversation, parent=q1, content="a-one, again")  # another branch
    switch(user_client, conversation, a3.pk)
    before = {m.pk: (m.content, m.parent_id) for m in Message.objects.filter(conversation=conversation)}
    original = Conversation.objects.get(pk=conversation.pk)

    response = user_client.post(url(conversation, f"/messages/{a2.pk}/branch"), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] != str(conversation.pk)
    assert body["title"] == "Trip (branch)"
    branch = Conversation.objects.get(pk=body["id"])
    assert (branch.owner_id, branch.origin_kind, branch.origin_id) == (user.pk, OriginKind.BRANCH, str(conversation.pk))
    copied = rows(user_client, branch)
    assert [row["content"] for row in copied] == ["one", "a-one", "two", "a-two"]
    assert body["current_message_id"] == copied[-1]["id"]
    assert [row["parent_id"] for row in copied] == [None, *[row["id"] for row in copied[:-1]]]
    assert all(row["sibling_ids"] == [row["id"]] for row in copied)
    assert not set(row["id"] for row in copied) & set(map(str, before))
    # The original is untouched.
    assert {m.pk: (m.content, m.parent_id) for m in Message.objects.filter(conversation=conversation)} == before
    conversation.refresh_from_db()
    assert (conversation.current_message_id, conversation.updated_at) == (a3.pk, original.updated_at)


def test_branch_from_a_reply_in_flight_is_409(user_client, conversation):
    (q1,) = with_turns(conversation, "first")
    writing = AssistantMessageFactory(conversation=conversation, status=MessageStatus.STREAMING)
    response = user_client.post(url(conversation, f"/messages/{writing.pk}/branch"), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "generation_in_progress"
    assert Conversation.objects.count() == 1


def test_branch_of_another_users_message_is_404(user_client, outsider_client, outsider, conversation):
    q1, a1 = with_turns(conversation, "first", "answer one")
    theirs = ConversationFactory(owner=outsider)
    their_reply = AssistantMessageFactory(conversation=theirs)
    # Their message under my conversation, and my message under theirs (as the outsider).
    assert user_client.post(url(conversation, f"/messages/{their_reply.pk}/branch")).status_code == 404
    assert user_client.post(url(theirs, f"/messages/{their_reply.pk}/branch")).status_code == 404
    assert outsider_client.post(url(conversation, f"/messages/{a1.pk}/branch")).status_code == 404
    assert Conversation.objects.count() == 2


# --- stop -------------------------------------------------------------------------------------


def test_stop_a_chosen_reply(user_client, user, conversation):
    set_plan(user, "plus", max_concurrent_generations=2)
    (q1,) = with_turns(conversation, "first")
    elsewhere = AssistantMessageFactory(conversation=conversation, parent=q1, status=MessageStatus.PENDING)
    current = AssistantMessageFactory(conversation=conversation, parent=q1, status=MessageStatus.PENDING)

    response = user_client.post(url(conversation, "/stop"), {"message_id": str(elsewhere.pk)}, format="json")

    assert response.status_code == 202, response.content
    assert response.json()["message"]["id"] == str(elsewhere.pk)
    elsewhere.refresh_from_db()
    current.refresh_from_db()
    assert (elsewhere.status, current.status) == (MessageStatus.STOPPED, MessageStatus.PENDING)
    # Without an id: the one on the active path.
    assert user_client.post(url(conversation, "/stop"), {}, format="json").json()["message"]["id"] == str(current.pk)
    # Already stopped, or not here.
    response = user_client.post(url(conversation, "/stop"), {"message_id": str(elsewhere.pk)}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "nothing_in_flight")
    other = AssistantMessageFactory(conversation=ConversationFactory(owner=user), status=MessageStatus.PENDING)
    response = user_client.post(url(conversation, "/stop"), {"message_id": str(other.pk)}, format="json")
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == MessageStatus.PENDING


# --- with a real upstream ---------------------------------------------------------------------


def roomy_plan(user, *, concurrent: int = 4) -> None:
    """A plan allowing ``concurrent`` replies at once (a transactional test starts with no plans)."""
    plan, _ = Plan.objects.get_or_create(slug="roomy", defaults={"name": "Roomy", "daily_message_limit": 1000})
    Plan.objects.filter(pk=plan.pk).update(max_concurrent_generations=concurrent, daily_message_limit=1000)
    UserSettings.objects.filter(user=user).update(plan=plan)


def upstream_model(upstream, mode: str = "burst:3") -> LLMModel:  # noqa: F811
    return text_model(upstream, mode, slug=mode.replace(":", "-"))


@pytest.mark.django_db(transaction=True)
def test_a_regenerated_middle_reply_is_written_from_the_path_above_it(user_client, user, upstream):  # noqa: F811
    model = upstream_model(upstream)
    conversation = ConversationFactory(owner=user, model=model, system_prompt="Be brief.")
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "second", "answer two")

    before = len(upstream.requests)
    response = user_client.post(url(conversation, f"/messages/{a1.pk}/regenerate?wait=true"), {}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["assistant_message"]["content"] == expected_text(3)
    (sent,) = upstream.requests[before:]
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "first"}]
    assert contents(user_client, conversation) == ["first", expected_text(3)]


@pytest.mark.django_db(transaction=True)
def test_two_tabs_editing_the_same_message_at_once_make_two_versions(user, upstream):  # noqa: F811
    roomy_plan(user)
    model = upstream_model(upstream, "normal:4")
    conversation = ConversationFactory(owner=user, model=model)
    q1, a1, q2, a2 = with_turns(conversation, "first", "answer one", "second", "answer two")
    token = account_services.session_start(user=user, login_type="local", device_id=None).tokens.access
    results: dict[str, object] = {}
    ready = threading.Barrier(2)

    def tab(text: str) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            ready.wait(5)
            results[text] = send(client, conversation, text, parent_id=str(a1.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tab, args=(text,)) for text in ("second, tab A", "second, tab B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert {text: response.status_code for text, response in results.items()} == {
        "second, tab A": 202,
        "second, tab B": 202,
    }, {text: response.content for text, response in results.items()}
    versions = Message.objects.filter(conversation=conversation, parent=a1).order_by("created_at", "id")
    assert sorted(m.content for m in versions) == ["second", "second, tab A", "second, tab B"]
    # Nothing overwritten: the first version and its reply are as they were.
    q2.refresh_from_db()
    a2.refresh_from_db()
    assert (q2.content, q2.parent_id, a2.content, a2.parent_id) == ("second", a1.pk, "answer two", q2.pk)
    # Each edit has its own reply under it; each tab's answer names all three versions.
    for response in results.values():
        question = response.json()["user_message"]
        assert Message.objects.filter(parent_id=question["id"]).count() == 1
        assert set(question["sibling_ids"]) >= {str(q2.pk), question["id"]}
    assert Message.objects.filter(conversation=conversation).count() == 8
    settle(conversation)


def settle(conversation, seconds: float = 10) -> None:
    """Wait for the replies started in the background to end (before the test's tables are emptied)."""
    deadline = time.monotonic() + seconds
    while Message.objects.in_flight().filter(conversation=conversation).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Message.objects.in_flight().filter(conversation=conversation).exists()


@pytest.mark.django_db(transaction=True)
def test_done_when_edit_the_first_of_ten_turns_then_step_back(user_client, user, upstream):  # noqa: F811
    """The issue's bar: a user edits their first message of a ten-turn chat, reads the new answer,
    steps back to the original and finds all ten turns intact."""
    model = upstream_model(upstream)
    conversation = ConversationFactory(owner=user, model=model)
    texts = [text for i in range(10) for text in (f"question {i}", f"answer {i}")]
    turns = with_turns(conversation, *texts)
    original = rows(user_client, conversation)
    assert [row["content"] for row in original] == texts

    edit = user_client.post(
        url(conversation, "/messages?wait=true"), {"content": "question 0, edited", "parent_id": None}, format="json"
    )
    assert edit.status_code == 201, edit.content
    new_answer = edit.json()["assistant_message"]
    assert (new_answer["status"], new_answer["content"]) == ("complete", expected_text(3))
    assert contents(user_client, conversation) == ["question 0, edited", expected_text(3)]

    body = switch(user_client, conversation, turns[0].pk).json()

    assert body["current_message_id"] == str(turns[-1].pk)
    assert body["message_count"] == 20
    back = rows(user_client, conversation)
    shape = ("id", "role", "content", "status", "parent_id")
    assert [[row[k] for k in shape] for row in back] == [[row[k] for k in shape] for row in original]
    assert back[0]["sibling_ids"] == [str(turns[0].pk), edit.json()["user_message"]["id"]]
    assert all(row["sibling_ids"] == [row["id"]] for row in back[1:])


# --- the path the user reads is the path answered -------------------------------------------


def test_a_send_reads_the_leaf_under_the_users_lock_not_the_callers_copy(user, conversation):
    """Tab B read the conversation (its leaf a1) before tab A's message moved the leaf. The send
    reads the leaf again, with the user's lock held: B's message never forks the chat unseen. While
    A's reply is being written, B is refused whole (409, nothing written); after, B's question
    goes under A's reply, the current leaf, and B's copy is brought up to date."""
    from conversations import services
    from conversations.models import LedgerEntry
    from conversations.selectors import conversation_get

    q1, a1 = with_turns(conversation, "first", "answer one")
    stale = conversation_get(user=user, pk=conversation.pk, summary=False)  # tab B's read: leaf a1
    _question, a_reply = services.message_send(
        conversation=conversation_get(user=user, pk=conversation.pk, summary=False), user=user, content="from A"
    )
    before = (Message.objects.count(), LedgerEntry.objects.count())

    with pytest.raises(Exception) as refused:
        services.message_send(conversation=stale, user=user, content="from B")
    assert getattr(refused.value, "code", None) == "generation_in_progress"
    assert (Message.objects.count(), LedgerEntry.objects.count()) == before

    Message.objects.filter(pk=a_reply.pk).update(status="complete")
    question, reply = services.message_send(conversation=stale, user=user, content="from B")
    assert question.parent_id == a_reply.pk
    assert stale.current_message_id == reply.pk


def test_naming_the_current_leaf_costs_what_a_default_send_costs(
    user_client, conversation, django_assert_max_num_queries
):
    q1, a1 = with_turns(conversation, "first", "answer one")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as named:
        response = send(user_client, conversation, "second", parent_id=str(a1.pk))
    assert response.status_code == 202, response.content
    question = response.json()["user_message"]
    assert (question["parent_id"], question["sibling_ids"]) == (str(a1.pk), [question["id"]])
    Message.objects.filter(conversation=conversation, status="pending").update(status="complete")
    leaf = response.json()["assistant_message"]["id"]
    with CaptureQueriesContext(connection) as default:
        assert send(user_client, conversation, "third").json()["user_message"]["parent_id"] == leaf
    assert len(named.captured_queries) == len(default.captured_queries)


def test_a_question_under_a_question_can_be_edited(user_client, conversation):
    # An imported chat whose tool turn was left out: a question right under a question.
    q1 = MessageFactory(conversation=conversation, content="look this up")
    q2 = MessageFactory(conversation=conversation, content="and then?", parent=q1)
    AssistantMessageFactory(conversation=conversation, parent=q2, content="done")

    response = send(user_client, conversation, "and then, edited?", parent_id=str(q1.pk))

    assert response.status_code == 202, response.content
    assert response.json()["user_message"]["sibling_ids"] == [str(q2.pk), response.json()["user_message"]["id"]]
    # A question with nothing under it is still no place for a new one.
    alone = MessageFactory(conversation=conversation, content="alone", parent=None)
    refused = send(user_client, conversation, "under it", parent_id=str(alone.pk))
    assert refused.status_code == 400 and "parent_id" in refused.json()


def test_history_whose_current_has_versions_below_it_ends_on_a_leaf(user):
    from conversations.services import PastMessage, conversation_create_from_history

    conversation = conversation_create_from_history(
        owner=user,
        title="imported",
        messages=[
            PastMessage(role="user", content="q", ref="q", parent_ref=None),
            PastMessage(role="assistant", content="a", ref="a", parent_ref="q"),
            PastMessage(role="user", content="older follow-up", ref="f1", parent_ref="a"),
            PastMessage(role="user", content="newer follow-up", ref="f2", parent_ref="a"),
            PastMessage(role="assistant", content="its answer", ref="f2a", parent_ref="f2"),
        ],
        count=5,
        tree=True,
        current_ref="a",  # an import's current node was left out: its parent kept, which has children
    )
    assert Message.objects.get(pk=conversation.current_message_id).content == "its answer"
