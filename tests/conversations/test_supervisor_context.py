"""A reply keeps being checkpointed after a ``?wait=true`` request on the same loop has ended.

The per-loop supervisor (stop flags, checkpoints, heartbeats) is started by whichever reply of the
loop needs it first. When that reply was asked by a ``?wait=true`` request, the supervisor must not
depend on that request: the other replies of the loop must go on being saved (and beat, or the
reaper would end them) after it is answered. (The reply of a ``?wait=true`` request is scheduled
like any other and the request waits on a listener; this guards that it stays so.)
"""

import threading
import time

import httpx
import pytest

from conversations.models import LLMModel, Message, MessageStatus, Role
from tests.conversations.upstream import upstream  # noqa: F401
from testsupport.servers import serve_asgi

pytestmark = pytest.mark.django_db(transaction=True)


def _model(upstream, slug: str, mode: str) -> LLMModel:  # noqa: F811
    return LLMModel.objects.create(
        slug=slug,
        display_name=slug,
        provider="openai",
        upstream_model=mode,
        base_url=upstream.base_url,
        enabled=True,
        context_window=8192,
        max_output_tokens=4000,
    )


def _reply(conversation_id) -> Message:
    return Message.objects.filter(conversation_id=conversation_id, role=Role.ASSISTANT).get()


def _wait_for(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()


def test_checkpoints_go_on_after_a_wait_request(user, outsider, auth_client, upstream, settings, caplog):  # noqa: F811
    settings.CHAT = {**settings.CHAT, "CHECKPOINT_SECONDS": 0.1}
    _model(upstream, "quick", "normal:30:0.05")  # about 1.5 s, answered in the request
    _model(upstream, "long", "slow:300:0.02")  # about 6 s, in the background
    waiting = {"Authorization": f"Bearer {auth_client(user).session_tokens.access}"}
    other = {"Authorization": f"Bearer {auth_client(outsider).session_tokens.access}"}

    with serve_asgi() as base, httpx.Client(base_url=base, timeout=30) as http:
        answered = {}

        def ask_and_wait():
            body = {"model": "quick", "message": "hi"}
            answered["response"] = http.post("/api/v1/conversations?wait=true", json=body, headers=waiting)

        asker = threading.Thread(target=ask_and_wait)
        asker.start()
        # The waited-for reply is running (so it started the loop's supervisor)...
        assert _wait_for(
            lambda: Message.objects.filter(
                conversation__owner=user, role=Role.ASSISTANT, status=MessageStatus.STREAMING
            ).exists(),
            timeout=10,
        )
        # ...when another user's long reply starts beside it.
        created = http.post("/api/v1/conversations", json={"model": "long", "message": "go"}, headers=other)
        assert created.status_code == 201, created.text
        conversation_id = created.json()["id"]
        asker.join(30)
        assert answered["response"].status_code == 201
        assert answered["response"].json()["assistant_message"]["status"] == MessageStatus.COMPLETE

        # After the wait request: the long reply is still streaming, and its checkpoints go on.
        after = _reply(conversation_id)
        assert after.status == MessageStatus.STREAMING
        grown = _wait_for(
            lambda: (
                (row := _reply(conversation_id)).heartbeat_at > after.heartbeat_at
                and len(row.content) > len(after.content)
            ),
            timeout=3,
        )
        http.post(f"/api/v1/conversations/{conversation_id}/stop", headers=other)

    assert grown, "no checkpoint of the long reply after the wait request ended"
    assert "reply supervisor tick failed" not in caplog.text
