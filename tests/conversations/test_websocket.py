"""The WebSocket consumer through a real uvicorn server and a real ``websockets`` client."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from conversations import generation
from conversations.generation.scheduling import run_reply
from conversations.models import Message
from tests.conversations.test_stream import bearer, exchange, make_model
from tests.conversations.upstream import expected_text, upstream  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def ws_url(base: str, conversation) -> str:
    return base.replace("http://", "ws://") + f"/ws/conversations/{conversation.pk}/"


def token_of(user) -> str:
    return bearer(user)["Authorization"].split()[1]


async def receive_all(ws) -> list[dict]:
    events = []
    try:
        while True:
            events.append(json.loads(await asyncio.wait_for(ws.recv(), 20)))
    except ConnectionClosed:
        return events


async def test_the_websocket_carries_the_same_events(asgi_server, upstream, user):  # noqa: F811
    model = await sync_to_async(make_model)(upstream, "normal:30")
    conversation, reply = await sync_to_async(exchange)(user, model)
    token = await sync_to_async(token_of)(user)
    async with connect(ws_url(asgi_server, conversation), origin="http://127.0.0.1") as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        await asyncio.sleep(0.2)  # the consumer subscribes before the reply starts
        # From a plain thread, as a sync view would: the engine uses the server's loop.
        await asyncio.to_thread(generation.start_generation, message_id=reply.id)
        events = await receive_all(ws)
        assert ws.close_code == 1000

    # Ids are "<reply id>:<number>": unique across a conversation's branches.
    assert [e["id"] for e in events] == [f"{reply.id}:{n}" for n in range(1, len(events) + 1)]
    assert events[0] == {
        "event": "message.start",
        "id": f"{reply.id}:1",
        "data": {"message_id": str(reply.id), "model": model.slug},
    }
    assert events[-1]["event"] == "message.done" and events[-1]["data"]["status"] == "complete"
    text = "".join(e["data"]["text"] for e in events if e["event"] == "delta")
    saved = await sync_to_async(Message.objects.get)(pk=reply.pk)
    assert text == saved.content == expected_text(30)


async def test_the_websocket_resumes_after_last_event_id(asgi_server, upstream, user):  # noqa: F811
    model = await sync_to_async(make_model)(upstream, "burst:15")
    conversation, reply = await sync_to_async(exchange)(user, model)
    await run_reply(reply.id)
    token = await sync_to_async(token_of)(user)
    async with connect(ws_url(asgi_server, conversation), origin="http://127.0.0.1") as ws:
        await ws.send(json.dumps({"type": "auth", "token": token, "last_event_id": f"{reply.id}:1"}))
        events = await receive_all(ws)
    assert events[0]["id"] == f"{reply.id}:2"
    assert events[-1]["event"] == "message.done"
    assert "".join(e["data"]["text"] for e in events if e["event"] == "delta") == expected_text(15)
    # A bare number (an older client) still resumes the reply followed.
    async with connect(ws_url(asgi_server, conversation), origin="http://127.0.0.1") as ws:
        await ws.send(json.dumps({"type": "auth", "token": token, "last_event_id": 1}))
        legacy = await receive_all(ws)
    assert legacy == events


@pytest.mark.parametrize(
    ("who", "token_kind", "close_code"),
    [("outsider", "valid", 4404), ("owner", "garbage", 4401), ("owner", "missing", 4401)],
)
async def test_the_websocket_refuses_strangers_and_bad_tokens(
    asgi_server,  # noqa: F811
    upstream,  # noqa: F811
    user,
    outsider,
    who,
    token_kind,
    close_code,
):
    model = await sync_to_async(make_model)(upstream, "normal:3")
    conversation, _ = await sync_to_async(exchange)(user, model)
    person = outsider if who == "outsider" else user
    first = {"type": "auth"}
    if token_kind == "valid":
        first["token"] = await sync_to_async(token_of)(person)
    elif token_kind == "garbage":
        first["token"] = "not.a.token"
    async with connect(ws_url(asgi_server, conversation), origin="http://127.0.0.1") as ws:
        await ws.send(json.dumps(first))
        events = await receive_all(ws)
        assert events == []
        assert ws.close_code == close_code
