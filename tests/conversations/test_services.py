"""Service rules that the API tests do not reach directly."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import services, titles
from conversations.models import Conversation, Feedback, Message, MessageStatus, Role
from tests.conversations.factories import (
    AssistantMessageFactory,
    ConversationFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("first_message", "title"),
    [
        ("How do I sort a list in Python?", "How do I sort a list in Python?"),
        ("\n\n  Plan   my\ttrip  \nto Kyoto in autumn", "Plan my trip"),
        (
            "Explain the difference between processes and threads in operating systems, with examples",
            "Explain the difference between processes and threads in",
        ),
        ("x" * 80, "x" * 59 + "…"),  # one long word: cut hard, and said to be
    ],
)
def test_autotitle_uses_the_first_line_of_the_first_user_message(user, first_message, title):
    conversation = ConversationFactory(owner=user, title="")
    MessageFactory(conversation=conversation, content=first_message)
    AssistantMessageFactory(conversation=conversation, content="A reply that is not the title.")
    MessageFactory(conversation=conversation, content="A later question")

    assert titles.conversation_autotitle(conversation_id=conversation.pk) == title
    conversation.refresh_from_db()
    assert conversation.title == title
    assert len(conversation.title) <= 60


def test_autotitle_never_overwrites_a_title(user):
    conversation = ConversationFactory(owner=user, title="Chosen by me")
    MessageFactory(conversation=conversation, content="Something else entirely")
    assert titles.conversation_autotitle(conversation_id=conversation.pk) is None
    conversation.refresh_from_db()
    assert conversation.title == "Chosen by me"


def test_autotitle_without_a_user_message_does_nothing(user):
    conversation = ConversationFactory(owner=user, title="")
    assert titles.conversation_autotitle(conversation_id=conversation.pk) is None
    assert Conversation.objects.get(pk=conversation.pk).title == ""


def test_message_send_hands_the_reply_to_the_engine_only_after_commit(user, django_capture_on_commit_callbacks):
    conversation = ConversationFactory(owner=user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        user_message, reply = services.message_send(conversation=conversation, user=user, content="hi")
    assert len(callbacks) == 1
    assert (user_message.role, user_message.content) == (Role.USER, "hi")
    assert (reply.role, reply.status, reply.content) == (Role.ASSISTANT, MessageStatus.PENDING, "")
    assert reply.created_at > user_message.created_at


def test_message_send_keeps_the_text_exactly_as_written(user):
    conversation = ConversationFactory(owner=user)
    text = "  indented code:\n    x = 1\n"
    user_message, _ = services.message_send(conversation=conversation, user=user, content=text)
    user_message.refresh_from_db()
    assert user_message.content == text


def test_autotitle_takes_the_first_question_ever_asked(user):
    """The first root question names the chat; a later version of it (an edit) does not rename it,
    nor does a later first message (a new root) or where the active path goes."""
    conversation = ConversationFactory(owner=user, title="")
    first = MessageFactory(conversation=conversation, content="The question", parent=None)
    AssistantMessageFactory(conversation=conversation, content="An answer")
    edited = MessageFactory(conversation=conversation, content="The question, edited", parent=None)
    assert edited.parent_id is None
    conversation.refresh_from_db()
    assert conversation.current_message_id == edited.pk
    assert titles.conversation_autotitle(conversation_id=conversation.pk) == "The question"
    assert first.parent_id is None


def test_conversation_update_writes_only_the_changed_columns(user):
    conversation = ConversationFactory(owner=user, title="t", pinned=False)
    with CaptureQueriesContext(connection) as ctx:
        services.conversation_update(conversation=conversation, user=user, title="t", pinned=True)
    updates = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert '"pinned"' in updates[0] and '"updated_at"' in updates[0]
    assert '"title"' not in updates[0] and '"system_prompt"' not in updates[0]


def test_feedback_set_creates_then_changes_one_row(user):
    reply = AssistantMessageFactory(conversation=ConversationFactory(owner=user))
    feedback, created = services.feedback_set(user=user, message=reply, rating="up", comment="")
    assert created
    again, created = services.feedback_set(user=user, message=reply, rating="down", comment=" meh ")
    assert not created and again.pk == feedback.pk
    assert Feedback.objects.get().comment == "meh"


def test_feedback_on_a_user_message_is_refused(user):
    question = MessageFactory(conversation=ConversationFactory(owner=user))
    with pytest.raises(ValidationError) as exc:
        services.feedback_set(user=user, message=question, rating="up", comment="")
    assert "message_id" in exc.value.message_dict


def test_deleting_a_conversation_stops_its_reply_in_flight(user, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    from conversations import generation

    conversation = ConversationFactory(owner=user)
    reply = AssistantMessageFactory(conversation=conversation, status=MessageStatus.STREAMING)
    finished = AssistantMessageFactory(conversation=conversation, status=MessageStatus.COMPLETE)
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_delete(conversation=conversation)
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    # The worker (in whatever process) sees the stop flag at its next flush.
    assert cache.get(generation.stop_key(reply.pk))
    assert cache.get(generation.stop_key(finished.pk)) is None


def test_conversation_titles_follow_the_one_title_rule(user):
    conversation = services.conversation_create(user=user, title=" Trip\x07 to\n\tKyoto ")
    assert conversation.title == "Trip to Kyoto"

    services.conversation_update(conversation=conversation, user=user, title="\x1b[1mBold\x00 plan")
    assert Conversation.objects.get(pk=conversation.pk).title == "[1mBold plan"

    with pytest.raises(ValidationError) as exc:
        services.conversation_update(conversation=conversation, user=user, title="x" * 201)
    assert "title" in exc.value.message_dict


def test_autotitle_drops_control_characters(user):
    conversation = ConversationFactory(owner=user, title="")
    # (No NUL here: PostgreSQL cannot store one, and the API refuses it before it gets this far.)
    MessageFactory(conversation=conversation, content="\x07\n\x1b\nWhat is\x7f a monad?")
    assert titles.conversation_autotitle(conversation_id=conversation.pk) == "What is a monad?"


def test_conversation_update_with_nothing_different_writes_nothing(user):
    conversation = ConversationFactory(owner=user, title="Same", pinned=True)
    with CaptureQueriesContext(connection) as ctx:
        services.conversation_update(conversation=conversation, user=user, title=" Same ", pinned=True)
    assert [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]] == []


def test_feedback_set_again_with_the_same_rating_writes_nothing(user):
    reply = AssistantMessageFactory(conversation=ConversationFactory(owner=user))
    services.feedback_set(user=user, message=reply, rating="up", comment="good")
    with CaptureQueriesContext(connection) as ctx:
        services.feedback_set(user=user, message=reply, rating="up", comment=" good ")
    assert not [q for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]


def test_message_send_reads_the_conversation_its_leaf_and_the_checks_in_one_select(user):
    def selects(conversation, *related: str) -> int:
        MessageFactory(conversation=conversation, content="first")
        leaf = AssistantMessageFactory(conversation=conversation, content="answer")
        loaded = Conversation.objects.select_related(*related).get(pk=conversation.pk)
        with CaptureQueriesContext(connection) as ctx:
            question, reply = services.message_send(conversation=loaded, user=user, content="second")
        assert question.parent_id == leaf.pk
        assert loaded.current_message_id == reply.pk  # the object passed in is brought up to date
        Message.objects.filter(pk=reply.pk).update(status=MessageStatus.COMPLETE)
        return sum(q["sql"].startswith("SELECT") for q in ctx.captured_queries)

    # Whatever the caller loaded: the service reads the row again, with all it checks, locked.
    assert selects(ConversationFactory(owner=user)) == 1
    assert selects(ConversationFactory(owner=user), "current_message") == 1


def test_a_refused_update_switches_no_version(user):
    conversation = ConversationFactory(owner=user)
    question = MessageFactory(conversation=conversation, content="first")
    first = AssistantMessageFactory(conversation=conversation, content="answer")
    second = AssistantMessageFactory(conversation=conversation, parent=question, content="answer again")
    conversation.refresh_from_db()
    with pytest.raises(ValidationError):
        services.conversation_update(
            conversation=conversation, user=user, current_message_id=first.pk, system_prompt="x" * 9000
        )
    assert Conversation.objects.get(pk=conversation.pk).current_message_id == second.pk
    services.conversation_update(conversation=conversation, user=user, current_message_id=first.pk, pinned=True)
    conversation.refresh_from_db()
    assert (conversation.current_message_id, conversation.pinned) == (first.pk, True)
