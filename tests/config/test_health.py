"""/healthz and the embedded model's server (its own process): required when an enabled model uses it."""

import socket

import pytest

from conversations.models import LLMModel, Provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as sock:  # bound, never listening, then closed: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_model_server_down_is_an_error_when_a_local_model_is_enabled(client, settings, closed_port_url):
    assert LLMModel.objects.filter(provider=Provider.LOCAL, enabled=True).exists()  # seeded default
    settings.CHAT = {**settings.CHAT, "LOCAL_MODEL_URL": closed_port_url}

    r = client.get("/healthz")

    assert r.status_code == 503
    assert r.json() == {"status": "error", "database": "ok", "channel_layer": "ok", "local_model": "error"}


def test_model_server_is_not_checked_when_no_enabled_model_uses_it(client, settings, closed_port_url):
    LLMModel.objects.filter(provider=Provider.LOCAL).update(enabled=False)
    settings.CHAT = {**settings.CHAT, "LOCAL_MODEL_URL": closed_port_url}

    r = client.get("/healthz")

    assert r.status_code == 200
    assert r.json()["local_model"] == "unused"


@pytest.mark.slow
def test_model_server_up_is_ok(client, local_model):
    r = client.get("/healthz")

    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "channel_layer": "ok", "local_model": "ok"}
