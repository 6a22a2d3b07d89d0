"""``manage.py reap_generations``: a progress bar on a terminal, one summary line, bad input is a
one-line CommandError (the reaping itself is tested in test_stream.py and test_crash_resume.py)."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from conversations.management.commands import reap_generations
from conversations.models import Message, MessageStatus, Role
from tests.conversations.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the reaper writes on its own thread


class Terminal(io.StringIO):
    def isatty(self):
        return True


def stale_replies(user, count: int) -> list[Message]:
    replies = []
    for _ in range(count):
        conversation = ConversationFactory(owner=user)
        MessageFactory(conversation=conversation, role=Role.USER, content="hi")
        replies.append(
            MessageFactory(
                conversation=conversation,
                role=Role.ASSISTANT,
                content="half",
                status=MessageStatus.STREAMING,
                heartbeat_at=timezone.now() - timedelta(minutes=10),
            )
        )
    return replies


def test_reaps_in_batches_with_a_bar_and_a_summary(user, monkeypatch):
    monkeypatch.setattr(reap_generations, "BATCH", 2)
    replies = stale_replies(user, 5)
    out, err = io.StringIO(), Terminal()

    call_command("reap_generations", stdout=out, stderr=err)

    assert out.getvalue().strip() == "Marked 5 stale replies interrupted."
    assert "Reaping replies" in err.getvalue() and "5/5" in err.getvalue()
    assert {m.status for m in Message.objects.filter(pk__in=[r.pk for r in replies])} == {MessageStatus.INTERRUPTED}


def test_nothing_stale(user):
    out, err = io.StringIO(), io.StringIO()
    call_command("reap_generations", stdout=out, stderr=err)
    assert out.getvalue().strip() == "Marked 0 stale replies interrupted." and err.getvalue() == ""


@pytest.mark.parametrize("value", ["-1", "nan"])
def test_a_bad_stale_after_is_a_one_line_error(value):
    with pytest.raises(CommandError, match="^--stale-after must be 0 or more seconds.$"):
        call_command("reap_generations", f"--stale-after={value}")
