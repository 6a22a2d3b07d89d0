"""With REDIS_URL set, a listener in another OS process receives the stream (Redis log + channel layer)."""

import asyncio
import json
import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings

from conversations.models import Message
from conversations.streaming import eventlog
from tests.conversations.replies import finish_reply
from tests.conversations.test_stream import exchange, make_model
from tests.conversations.upstream import expected_text, upstream  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis channel layer (REDIS_URL)"),
]

LISTENER = textwrap.dedent(
    """
    import asyncio, json, sys
    import django
    django.setup()
    from conversations.streaming.listener import Listener

    async def main(conversation_id):
        listener = Listener(conversation_id=conversation_id, last_event_id=0)
        await listener.open()
        print("ready", flush=True)
        events = [
            {"event": e.name.value, "id": e.id, "data": e.data_dict()}
            async for e in listener.events() if e is not None
        ]
        print(json.dumps({"events": events}), flush=True)

    asyncio.run(main(sys.argv[1]))
    """
)


def _test_database_url() -> str:
    """The test database, for a process that must read the rows this test writes."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def test_a_listener_in_another_process_receives_the_stream(upstream, user):  # noqa: F811
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis")
    model = make_model(upstream, "normal:30")
    conversation, reply = exchange(user, model)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": _test_database_url()}
    listener = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", LISTENER, str(conversation.pk)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=settings.BASE_DIR,
    )
    try:
        assert listener.stdout.readline().strip() == "ready"
        finish_reply(message_id=reply.id)
        out, _ = listener.communicate(timeout=30)
    finally:
        listener.kill()
    received = json.loads(out)
    events = received["events"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["data"]["status"] == "complete"
    text = "".join(e["data"]["text"] for e in events if e["event"] == "delta")
    saved = Message.objects.get(pk=reply.pk)
    assert text == saved.content == expected_text(30)
    # The shared log holds the same events, each pushed once: bytes grow with the events, not
    # with the reply so far.
    assert [e.id for e in asyncio.run(eventlog.shared_read(reply.id))] == [e["id"] for e in events]


def _bytes_for(upstream, user, tokens: int) -> int:  # noqa: F811
    conversation, reply = exchange(user, make_model(upstream, f"burst:{tokens}"))
    before = eventlog.shared_bytes_written
    finish_reply(message_id=reply.id)
    return eventlog.shared_bytes_written - before


def test_shared_log_bytes_grow_linearly_with_the_number_of_events(upstream, user, settings):  # noqa: F811
    # One event per token (no coalescing), so the number of events is known.
    settings.CHAT = {**settings.CHAT, "DELTA_COALESCE_SECONDS": 0.0}
    small, large = _bytes_for(upstream, user, 100), _bytes_for(upstream, user, 2000)
    assert eventlog.shared_bytes_written and large > small
    # Token i is "t<i> ": a delta event costs its fixed envelope plus its text, whatever came before.
    per_event = (large - small) / 1900
    assert 40 < per_event < 120
    assert small == pytest.approx(per_event * 100, rel=0.6)


def test_a_send_answered_with_its_stream_sets_no_watch_on_redis(asgi_server, upstream, user):  # noqa: F811
    """The reply of a send answered with its stream runs in the process that answers: its listener
    follows the local log, never joins the conversation's group nor sets its watch key, so the
    generator announces nothing to other processes (two Redis commands an event saved)."""
    import httpx
    import redis

    from tests.conversations.sse import iter_events
    from tests.conversations.test_stream import bearer, text_of

    model = make_model(upstream, "normal:12")
    headers = bearer(user)
    created = httpx.post(f"{asgi_server}/api/v1/conversations", json={"model": model.slug}, headers=headers)
    conversation_id = created.json()["id"]
    url = f"{asgi_server}/api/v1/conversations/{conversation_id}/messages"
    with httpx.stream(
        "POST", url, json={"content": "Hi"}, headers={**headers, "Accept": "text/event-stream"}, timeout=20
    ) as response:
        events = list(iter_events(response))
    assert events[0].name == "message.created" and events[-1].name == "message.done"
    assert text_of(events[1:]) == expected_text(12)
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    assert not client.exists(eventlog.watch_key(conversation_id))
