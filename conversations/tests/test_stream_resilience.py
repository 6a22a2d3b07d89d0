"""A listener survives a failing channel layer (e.g. Redis timing out under load).

Fault injection on the real in-memory layer: its ``receive`` raises for a while. Every event must
still reach the client exactly once, in order (from the stream state), and a layer that keeps
failing ends the stream cleanly instead of crashing the response.
"""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from conversations import streaming
from conversations.models import Conversation, Message, MessageStatus, Role

pytestmark = pytest.mark.django_db(transaction=True)


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


async def _publish(state, name, data):
    await streaming.publish(state, streaming.append_event(state, name, data))


async def test_events_reach_the_client_once_in_order_while_the_layer_fails(reply, failing_receive):
    state = streaming.new_state(message_id=reply.id, conversation_id=reply.conversation_id, model="m")
    await _publish(state, "message.start", {"message_id": str(reply.id), "model": "m"})
    await _publish(state, "delta", {"text": "Hel"})

    failing_receive["failures_left"] = 3
    listener = streaming.Listener(conversation_id=reply.conversation_id, last_event_id=1)
    await listener.open()

    async def generate_rest():
        await asyncio.sleep(0.05)
        for text in ("lo", ", wor", "ld"):
            await _publish(state, "delta", {"text": text})
        await sync_to_async(Message.objects.filter(pk=reply.pk).update)(status=MessageStatus.COMPLETE)
        await _publish(
            state,
            streaming.TERMINAL_EVENT,
            {"message_id": str(reply.id), "status": "complete", "usage": {"prompt_tokens": 1, "completion_tokens": 4}},
        )

    producer = asyncio.create_task(generate_rest())
    received = [event async for event in listener.events() if event is not None]
    await producer

    assert [e.id for e in received] == list(range(2, state["seq"] + 1))
    assert "".join(e.data["text"] for e in received if e.name == "delta") == "Hello, world"
    assert received[-1].name == streaming.TERMINAL_EVENT
    assert failing_receive["failures_left"] < 3  # the fault really happened while streaming


async def test_a_layer_that_keeps_failing_ends_the_stream_cleanly(reply, failing_receive, monkeypatch):
    monkeypatch.setattr(streaming, "IDLE_RECHECK_SECONDS", 0.01)
    state = streaming.new_state(message_id=reply.id, conversation_id=reply.conversation_id, model="m")
    await _publish(state, "message.start", {"message_id": str(reply.id), "model": "m"})

    failing_receive["failures_left"] = 10_000
    listener = streaming.Listener(conversation_id=reply.conversation_id, last_event_id=1)
    await listener.open()
    received = await asyncio.wait_for(_drain(listener), timeout=10)

    assert received == []  # nothing new, and no exception: the client reconnects and resumes
    assert failing_receive["failures_left"] == 10_000 - streaming.MAX_CONSECUTIVE_FAILURES


async def _drain(listener):
    return [event async for event in listener.events() if event is not None]
