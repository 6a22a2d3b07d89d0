"""What the daily quota charges (``conversations.quota.charged``): every reply asked for, but those
that ended ``error``, ``stopped`` or ``interrupted`` known to have said nothing, so that a client
retrying a failure (an SDK's retries of a 503, a timeout) pays once, for the try that answers. The
same rule for the app and the API, in one query."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import UserSettings
from conversations import services
from conversations.generation import rows
from conversations.models import LedgerEntry, Message, MessageStatus, Role
from conversations.quota import daily_usage
from tests.conversations.factories import ConversationFactory, LedgerEntryFactory, LLMModelFactory

pytestmark = pytest.mark.django_db

S = MessageStatus


def usage(user):
    return daily_usage(settings_row=UserSettings.objects.select_related("plan").get(user=user))


@pytest.mark.parametrize(
    ("status", "latency_ms", "completion_tokens", "charged"),
    [
        (S.COMPLETE, 120, 9, True),
        (S.COMPLETE, None, 0, True),  # a reply that said nothing but did finish
        (S.PENDING, None, None, True),  # in flight: it may yet answer
        (S.STREAMING, None, None, True),
        (S.ERROR, None, 0, False),  # an upstream 503 or timeout before any text
        (S.STOPPED, None, 0, False),  # a client that left before the first token
        (S.INTERRUPTED, None, 0, False),
        (S.ERROR, 300, 40, True),  # failed after some text: it gave something
        (S.STOPPED, 300, 40, True),
        # Ends that do not say what the reply gave: a deletion while it ran, the reaper.
        (S.STOPPED, None, None, True),
        (S.INTERRUPTED, None, None, True),
    ],
)
def test_what_a_reply_costs_by_how_it_ended(user, status, latency_ms, completion_tokens, charged):
    LedgerEntryFactory(user=user, status=status, latency_ms=latency_ms, completion_tokens=completion_tokens)
    assert usage(user).messages_sent == (1 if charged else 0)


def test_a_reply_stopped_before_a_worker_took_it_is_free(user):
    conversation = ConversationFactory(owner=user, model=LLMModelFactory(slug="fast"))
    _question, reply = services.message_send(conversation=conversation, user=user, content="hi")
    assert usage(user).messages_sent == 1  # pending: it may yet answer

    assert rows.reply_stop_pending(message_id=reply.pk) is not None

    assert LedgerEntry.objects.get(message_id=reply.pk).completion_tokens == 0
    assert usage(user).messages_sent == 0


def test_deleting_a_conversation_while_its_reply_runs_gives_nothing_back(user):
    conversation = ConversationFactory(owner=user, model=LLMModelFactory(slug="fast"))
    services.message_send(conversation=conversation, user=user, content="hi")
    rows.reply_claim(message_id=Message.objects.get(role=Role.ASSISTANT).pk)  # streaming: text may have come

    services.conversation_delete(conversation=conversation)

    assert usage(user).messages_sent == 1


def test_the_count_is_still_one_query(user, django_assert_num_queries):
    for status in (S.COMPLETE, S.ERROR, S.STOPPED):
        LedgerEntryFactory(user=user, status=status, completion_tokens=0)
    settings_row = UserSettings.objects.select_related("plan").get(user=user)
    with django_assert_num_queries(1):  # the ledger's count, failures left out in SQL
        assert daily_usage(settings_row=settings_row).messages_sent == 1


def test_in_the_app_a_failed_reply_does_not_use_up_the_day(user, user_client, settings):
    settings_row = UserSettings.objects.select_related("plan").get(user=user)
    settings_row.plan.daily_message_limit = 1
    settings_row.plan.save()
    model = LLMModelFactory(slug="fast")
    before = timezone.now() - timedelta(seconds=1)
    LedgerEntryFactory(user=user, status=S.ERROR, completion_tokens=0, created_at=before)  # upstream down
    LedgerEntryFactory(user=user, status=S.STOPPED, completion_tokens=0, created_at=before)  # stopped at once

    sent = user_client.post("/api/v1/conversations", {"message": "again", "model": model.slug}, format="json")
    assert sent.status_code == 201, sent.content

    refused = user_client.post("/api/v1/conversations", {"message": "one more", "model": model.slug}, format="json")
    assert refused.status_code == 429 and refused.json()["code"] == "daily_quota_exceeded"
    assert user_client.get("/api/v1/user/settings/subscription").json()["usage_today"]["messages_sent"] == 1
