"""With REDIS_URL set, a listener in another OS process receives the stream (channel layer + cache)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings

from conversations import engine
from conversations.models import Message
from conversations.tests.test_stream import exchange, make_model
from conversations.tests.upstream import expected_text, upstream  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis channel layer (REDIS_URL)"),
]

LISTENER = textwrap.dedent(
    """
    import asyncio, json, sys
    import django
    django.setup()
    from channels.layers import get_channel_layer
    from conversations import streaming

    async def main(conversation_id):
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(streaming.group_name(conversation_id), channel)
        print("ready", flush=True)
        events = []
        while True:
            item = await asyncio.wait_for(layer.receive(channel), 30)
            events.append({"event": item["event"], "id": item["id"], "data": item["data"]})
            if item["event"] == streaming.TERMINAL_EVENT:
                break
        state = await streaming.cache_get(streaming.state_key(events[0]["data"]["message_id"]))
        print(json.dumps({"events": events, "state_text": state["text"]}), flush=True)

    asyncio.run(main(sys.argv[1]))
    """
)


def test_a_listener_in_another_process_receives_the_stream(upstream, user):  # noqa: F811
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis")
    model = make_model(upstream, "normal:30")
    conversation, reply = exchange(user, model)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    listener = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", LISTENER, str(conversation.pk)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=settings.BASE_DIR,
    )
    try:
        assert listener.stdout.readline().strip() == "ready"
        engine.generate_now(message_id=reply.id)
        out, _ = listener.communicate(timeout=30)
    finally:
        listener.kill()
    received = json.loads(out)
    events = received["events"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["data"]["status"] == "complete"
    text = "".join(e["data"]["text"] for e in events if e["event"] == "delta")
    saved = Message.objects.get(pk=reply.pk)
    assert text == saved.content == received["state_text"] == expected_text(30)
