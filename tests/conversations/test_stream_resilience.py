"""A listener in another process survives a failing channel layer (e.g. Redis timing out under load).

Fault injection on the real Redis channel layer: its ``receive`` raises for a while. Every event must
still reach the client exactly once, in order (from the shared log), and a layer that keeps failing
ends the stream cleanly instead of crashing the response. The reply's log is only in Redis here, as
it is for a listener whose reply runs in another process.
"""

import asyncio
import os

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from conversations.models import Conversation, Message, MessageStatus, Role
from conversations.streaming import eventlog, listener
from conversations.streaming.events import Delta, Done, Event, EventName, Start, TokenUsage

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis channel layer (REDIS_URL)"),
]


@pytest.fixture
def reply(user):
    conversation = Conversation.objects.create(owner=user)
    Message.objects.create(conversation=conversation, role=Role.USER, content="hi")
    return Message.objects.create(conversation=conversation, role=Role.ASSISTANT, status=MessageStatus.STREAMING)


@pytest.fixture
def failing_receive(monkeypatch):
    layer = get_channel_layer()
    real_receive = layer.receive
    calls = {"failures_left": 0}

    async def receive(channel):
        if calls["failures_left"]:
            calls["failures_left"] -= 1
            raise ConnectionError("channel layer unavailable")
        return await real_receive(channel)

    monkeypatch.setattr(layer, "receive", receive)
    return calls


async def _publish(reply, *events):
    await eventlog.shared_append(reply.id, reply.conversation_id, list(events))


def _delta(seq, reply, text):
    return Event(seq, EventName.DELTA, Delta(str(reply.id), text))


async def test_events_reach_the_client_once_in_order_while_the_layer_fails(reply, failing_receive):
    await _publish(reply, Event(1, EventName.START, Start(str(reply.id), "m")), _delta(2, reply, "Hel"))

    failing_receive["failures_left"] = 3
    follower = listener.Listener(conversation_id=reply.conversation_id, last_event_id=1)
    await follower.open()

    async def generate_rest():
        await asyncio.sleep(0.05)
        for seq, text in ((3, "lo"), (4, ", wor"), (5, "ld")):
            await _publish(reply, _delta(seq, reply, text))
        await sync_to_async(Message.objects.filter(pk=reply.pk).update)(status=MessageStatus.COMPLETE)
        await _publish(reply, Event(6, EventName.DONE, Done(str(reply.id), "complete", TokenUsage(1, 4))))

    producer = asyncio.create_task(generate_rest())
    received = [event async for event in follower.events() if event is not None]
    await producer

    assert [e.id for e in received] == [2, 3, 4, 5, 6]
    assert "".join(e.data.text for e in received if e.name is EventName.DELTA) == "Hello, world"
    assert received[-1].is_terminal
    assert failing_receive["failures_left"] < 3  # the fault really happened while streaming


async def test_a_layer_that_keeps_failing_ends_the_stream_cleanly(reply, failing_receive, monkeypatch):
    monkeypatch.setattr(listener, "IDLE_RECHECK_SECONDS", 0.01)
    await _publish(reply, Event(1, EventName.START, Start(str(reply.id), "m")))

    failing_receive["failures_left"] = 10_000
    follower = listener.Listener(conversation_id=reply.conversation_id, last_event_id=1)
    await follower.open()
    received = await asyncio.wait_for(_drain(follower), timeout=10)

    assert received == []  # nothing new, and no exception: the client reconnects and resumes
    assert failing_receive["failures_left"] == 10_000 - listener.MAX_CONSECUTIVE_FAILURES


async def _drain(follower):
    return [event async for event in follower.events() if event is not None]
