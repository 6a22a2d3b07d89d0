"""Retention: ``manage.py purge`` (a dry run unless --apply) and the daily job delete conversations
with no activity since the cutoff, never one with a reply in flight; shares made from them stay."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from conversations import retention, tasks
from conversations.models import Conversation, Feedback, Message, MessageStatus, Role
from sharing import services as sharing_services
from sharing.models import Share
from tests.accounts.factories import UserFactory
from tests.conversations.factories import ConversationFactory, FeedbackFactory, MessageFactory

pytestmark = pytest.mark.django_db


def aged(conversation, days: float):
    """Make ``conversation`` last active ``days`` ago (updated_at is auto_now: set it by UPDATE)."""
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=timezone.now() - timedelta(days=days))
    return conversation


def chat(owner, *, days: float, messages: int = 2, **kwargs):
    conversation = ConversationFactory(owner=owner, **kwargs)
    for n in range(messages):
        MessageFactory(conversation=conversation, role=Role.USER if n % 2 == 0 else Role.ASSISTANT, content=f"m{n}")
    return aged(conversation, days)


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("purge", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def old_and_new(user, outsider):
    return {
        "alice_old": [chat(user, days=400), chat(user, days=500, messages=3)],
        "alice_new": chat(user, days=10),
        "charlie_old": chat(outsider, days=366, messages=1),
    }


def test_a_dry_run_is_the_default_and_says_what_would_go_per_user(old_and_new):
    out, _ = run("--older-than", "365d")

    assert Conversation.objects.count() == 4  # nothing deleted
    assert "  alice@example.com: 2 conversations, 5 messages" in out
    assert "  charlie@example.com: 1 conversation, 1 message" in out
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("Dry run: would delete 3 conversations (6 messages) of 2 users, last active before ")
    assert "(365 days ago)" in summary and "--apply" in summary


def test_apply_deletes_the_old_ones_with_their_messages_and_keeps_the_rest(old_and_new):
    out, _ = run("--older-than", "52w", "--apply", "--batch-size", "1")

    assert list(Conversation.objects.values_list("pk", flat=True)) == [old_and_new["alice_new"].pk]
    assert Message.objects.count() == 2
    assert (
        out.strip().splitlines()[-1].startswith("Deleted 3 conversations (6 messages) of 2 users, last active before ")
    )


def test_a_conversation_with_a_reply_in_flight_is_never_deleted(user):
    busy = chat(user, days=1000)
    MessageFactory(conversation=busy, role=Role.ASSISTANT, status=MessageStatus.STREAMING)
    pending = chat(user, days=1000)
    MessageFactory(conversation=pending, role=Role.ASSISTANT, status=MessageStatus.PENDING)
    aged(busy, 1000), aged(pending, 1000)
    done = chat(user, days=1000)

    dry, _ = run("--older-than", "30d")
    assert "would delete 1 conversation " in dry and "2 conversations kept with a reply in flight" in dry
    out, _ = run("--older-than", "30d", "--apply")

    assert set(Conversation.objects.values_list("pk", flat=True)) == {busy.pk, pending.pk}
    assert not Conversation.objects.filter(pk=done.pk).exists()
    assert "2 conversations kept with a reply in flight" in out


def test_shares_stay_live_without_their_source(user, outsider):
    conversation = chat(user, days=5)
    share = sharing_services.share_create(user=user, conversation=conversation, title="kept")
    aged(conversation, 400)
    FeedbackFactory(message=conversation.messages.filter(role=Role.ASSISTANT).first(), user=user)

    run("--older-than", "365d", "--apply")

    share.refresh_from_db()
    assert share.source_conversation_id is None and share.is_live
    assert share.messages  # the snapshot is the share's own
    assert not Feedback.objects.exists()  # feedback went with its messages
    clone = sharing_services.share_clone(share=Share.objects.get(pk=share.pk), user=outsider)
    assert clone.messages.exists()


def test_a_conversation_touched_while_the_purge_runs_is_kept(user, monkeypatch):
    touched, other = chat(user, days=400), chat(user, days=400)
    original = retention.conversations_expired
    calls = []

    def listed_then_touched(*, cutoff):
        calls.append(cutoff)
        if len(calls) == 2:  # after the batch was listed, before it is locked and checked again
            Conversation.objects.filter(pk=touched.pk).update(updated_at=timezone.now())
        return original(cutoff=cutoff)

    monkeypatch.setattr(retention, "conversations_expired", listed_then_touched)
    purged = retention.conversations_purge(cutoff=timezone.now() - timedelta(days=365), batch_size=10)

    assert purged.conversations == 1
    assert list(Conversation.objects.values_list("pk", flat=True)) == [touched.pk]
    assert not Conversation.objects.filter(pk=other.pk).exists()


def test_without_older_than_the_setting_decides(settings, old_and_new):
    settings.CHAT = {**settings.CHAT, "RETENTION_DAYS": 0}
    out, _ = run("--apply")
    assert "kept forever" in out and Conversation.objects.count() == 4

    settings.CHAT = {**settings.CHAT, "RETENTION_DAYS": 450}
    out, _ = run("--apply")
    assert "Deleted 1 conversation (3 messages) of 1 user" in out
    assert Conversation.objects.count() == 3


@pytest.mark.parametrize("age", ["1y", "abc", "0d", "-5d", "365", "12m", "3.5d", ""])
def test_a_bad_age_is_a_one_line_error(age, old_and_new):
    with pytest.raises(CommandError) as caught:
        run(f"--older-than={age}", "--apply")
    message = str(caught.value)
    assert "\n" not in message and "like 365d or 12w" in message
    assert Conversation.objects.count() == 4


def test_a_bad_batch_size_is_a_one_line_error():
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        run("--older-than", "1d", "--batch-size", "0")


def test_ages_in_days_and_weeks():
    assert retention.age_parse("365d") == timedelta(days=365)
    assert retention.age_parse(" 12W ") == timedelta(weeks=12)


def test_a_terminal_sees_a_progress_bar(monkeypatch, old_and_new):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    err = Terminal()
    call_command("purge", "--older-than", "365d", "--apply", "--batch-size", "1", stdout=io.StringIO(), stderr=err)
    assert "Deleting conversations" in err.getvalue() and "3/3" in err.getvalue()


def test_logs_get_no_progress_bar(old_and_new):
    _, err = run("--older-than", "365d", "--apply")
    assert err == ""


def test_many_users_are_listed_up_to_a_limit(monkeypatch):
    from conversations.management.commands import purge

    monkeypatch.setattr(purge, "PREVIEW_OWNERS", 2)
    for n in range(4):
        chat(UserFactory(email=f"u{n}@example.com"), days=100, messages=1)
    out, _ = run("--older-than", "30d")
    assert out.count("@example.com:") == 2 and "... and 2 more users" in out


def test_the_daily_job_applies_the_setting(settings, old_and_new):
    settings.CHAT = {**settings.CHAT, "RETENTION_DAYS": 0}
    assert tasks.conversations_purge_expired.call() == {"retention_days": 0, "conversations": 0, "messages": 0}
    assert Conversation.objects.count() == 4

    settings.CHAT = {**settings.CHAT, "RETENTION_DAYS": 365}
    result = tasks.conversations_purge_expired.enqueue()  # the test profile runs jobs at once
    assert result.return_value == {"retention_days": 365, "conversations": 3, "messages": 6}
    assert list(Conversation.objects.values_list("pk", flat=True)) == [old_and_new["alice_new"].pk]
