"""An open stream (SSE or WebSocket) ends within seconds of its session ending: sign-out, device
revoked, user deactivated. The reply itself goes on and is saved."""

import asyncio
import json
import time

import httpx
import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.client import connect

from accounts import services as account_services
from accounts.models import User
from conversations import generation
from conversations.api import stream
from tests.conversations.sse import iter_events
from tests.conversations.test_stream import exchange, make_model
from tests.conversations.test_websocket import receive_all, ws_url
from tests.conversations.upstream import upstream  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quick_recheck(monkeypatch):
    assert stream.SESSION_RECHECK_SECONDS <= 5  # "within a few seconds" in production too
    monkeypatch.setattr(stream, "SESSION_RECHECK_SECONDS", 0.3)


def _session(user):
    return account_services.session_start(user=user, login_type="local", device_id=None)


@pytest.mark.parametrize("how", ["logout", "deactivate"])
def test_an_sse_stream_ends_when_its_session_ends(asgi_server, upstream, user, how):  # noqa: F811
    conversation, reply = exchange(user, make_model(upstream, "slow:400"))
    session = _session(user)
    headers = {"Authorization": f"Bearer {session.tokens.access}"}
    url = f"{asgi_server}/api/v1/conversations/{conversation.pk}/stream"
    events = []
    with httpx.stream("GET", url, headers=headers, timeout=20) as response:
        generation.start_generation(message_id=reply.id)
        for event in iter_events(response):
            events.append(event)
            if len(events) == 3:
                started = time.monotonic()
                if how == "logout":
                    assert httpx.post(f"{asgi_server}/api/v1/auth/logout", headers=headers).status_code == 204
                else:
                    User.objects.filter(pk=user.pk).update(is_active=False)
    assert time.monotonic() - started < 3
    assert "message.done" not in {e.name for e in events}  # cut, not finished
    generation.request_stop(message_id=reply.id)


async def test_a_websocket_closes_4401_when_its_device_is_revoked(asgi_server, upstream, user):  # noqa: F811
    model = await sync_to_async(make_model)(upstream, "slow:400")
    conversation, reply = await sync_to_async(exchange)(user, model)
    session = await sync_to_async(_session)(user)
    async with connect(ws_url(asgi_server, conversation), origin="http://127.0.0.1") as ws:
        await ws.send(json.dumps({"type": "auth", "token": session.tokens.access}))
        await asyncio.sleep(0.2)
        await asyncio.to_thread(generation.start_generation, message_id=reply.id)
        await asyncio.sleep(0.3)
        await sync_to_async(account_services.device_revoke)(device=session.device)
        events = await asyncio.wait_for(receive_all(ws), 5)
        assert ws.close_code == 4401
    assert events and events[-1]["event"] != "message.done"
    await asyncio.to_thread(generation.request_stop, message_id=reply.id)
