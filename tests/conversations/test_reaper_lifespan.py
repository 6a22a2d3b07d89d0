"""Every server process reaps replies whose worker died, without anyone opening their stream."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Message, MessageStatus, Role
from tests.conversations.factories import ConversationFactory
from testsupport.servers import serve_asgi

pytestmark = pytest.mark.django_db(transaction=True)


def test_server_start_runs_the_periodic_reaper(user, settings):
    settings.CHAT = {**settings.CHAT, "STALE_AFTER_SECONDS": 0.2}
    conversation = ConversationFactory(owner=user)
    Message.objects.create(conversation=conversation, role=Role.USER, content="hi")
    stale = Message.objects.create(
        conversation=conversation,
        role=Role.ASSISTANT,
        content="half a rep",
        status=MessageStatus.STREAMING,
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )

    with serve_asgi(lifespan="on"):
        deadline = time.monotonic() + 10
        stale.refresh_from_db()
        while stale.status == MessageStatus.STREAMING and time.monotonic() < deadline:
            time.sleep(0.05)
            stale.refresh_from_db()

    assert stale.status == MessageStatus.INTERRUPTED
    assert stale.content == "half a rep"  # what was produced is kept
