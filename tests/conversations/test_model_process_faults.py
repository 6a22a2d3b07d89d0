"""The embedded model's process killed with SIGKILL mid-reply: the reply ends ``error`` with the text
it had, the web server keeps serving (and /healthz says what is wrong), and once the model process
is back replies work again."""

import signal
import socket
import subprocess
import time

import httpx
import pytest

from accounts import services as account_services
from conversations.llm.model_server import command, environment
from conversations.models import Conversation, LLMModel, Message, MessageStatus
from tests.conversations.sse import iter_events

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _start_model(port: int) -> subprocess.Popen:
    process = subprocess.Popen(  # noqa: S603 (our own fixed argv)
        command("127.0.0.1", port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment()
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the model server exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the model server did not start")


@pytest.fixture
def own_model_server(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CHAT = {**settings.CHAT, "LOCAL_MODEL_URL": f"http://127.0.0.1:{port}/v1"}
    servers = {"process": _start_model(port), "port": port}
    yield servers
    servers["process"].kill()
    servers["process"].wait()


def _send(base, headers, conversation) -> list:
    url = f"{base}/api/v1/conversations/{conversation.pk}"
    sent = httpx.post(f"{url}/messages", json={"content": "Tell me a long story about a dragon."}, headers=headers)
    assert sent.status_code == 202, sent.text
    return sent.json()["assistant_message"]["id"]


def test_killing_the_model_mid_reply_ends_it_in_error_and_the_web_keeps_serving(asgi_server, own_model_server, user):
    # Transactional tests flush the seeded rows: make the embedded model's row as the seed does.
    model, _ = LLMModel.objects.update_or_create(
        slug="smollm2-135m",
        defaults={"provider": "local", "upstream_model": "SmolLM2-135M-Instruct", "max_output_tokens": 400},
    )
    conversation = Conversation.objects.create(owner=user, model=model)
    session = account_services.session_start(user=user, login_type="local", device_id=None)
    headers = {"Authorization": f"Bearer {session.tokens.access}"}

    reply_id = _send(asgi_server, headers, conversation)
    events = []
    url = f"{asgi_server}/api/v1/conversations/{conversation.pk}/stream"
    with httpx.stream("GET", url, headers=headers, timeout=30) as response:
        for event in iter_events(response):
            events.append(event)
            if event.name == "delta" and own_model_server["process"].poll() is None:
                own_model_server["process"].send_signal(signal.SIGKILL)
    assert [e.name for e in events[-2:]] == ["error", "message.done"]
    assert events[-1].data["status"] == "error"
    saved = Message.objects.get(pk=reply_id)
    assert saved.status == MessageStatus.ERROR
    shown = "".join(e.data["text"] for e in events if e.name in ("snapshot", "delta"))
    assert saved.content == shown != ""  # the text produced before the crash is kept

    # The web server is unharmed and says what is wrong.
    assert httpx.get(f"{asgi_server}/api/v1/conversations", headers=headers).status_code == 200
    health = httpx.get(f"{asgi_server}/healthz")
    assert (health.status_code, health.json()["local_model"]) == (503, "error")

    # Back again: replies work.
    own_model_server["process"] = _start_model(own_model_server["port"])
    LLMModel.objects.filter(slug="smollm2-135m").update(max_output_tokens=8)
    second_id = _send(asgi_server, headers, conversation)
    with httpx.stream("GET", url, headers=headers, timeout=30) as response:
        events = list(iter_events(response))
    assert events[-1].data["status"] == "complete"
    assert Message.objects.get(pk=second_id).content.strip()
