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
    assert r.json() == {
        "status": "error",
        "database": "ok",
        "channel_layer": "ok",
        "local_model": "error",
        "local_embedding": "unused",
    }


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
    assert r.json() == {
        "status": "ok",
        "database": "ok",
        "channel_layer": "ok",
        "local_model": "ok",
        "local_embedding": "unused",
    }


# --- the embedded embedding server (/v1/embeddings' default model) -------------------------------


@pytest.fixture
def _no_local_model(db):
    LLMModel.objects.filter(provider=Provider.LOCAL).update(enabled=False)


@pytest.fixture
def _knowledge_settings_read_afresh():
    from knowledge.embeddings import forget_settings

    forget_settings()
    yield
    forget_settings()


@pytest.mark.usefixtures("_no_local_model", "_knowledge_settings_read_afresh")
def test_embedding_server_down_is_reported_when_v1_embeddings_uses_it_but_keeps_the_node_up(
    client, settings, closed_port_url
):
    settings.CHAT = {**settings.CHAT, "LOCAL_EMBEDDING_URL": closed_port_url}

    r = client.get("/healthz")

    # Chat goes on without it: a load balancer must not drain the node for /v1/embeddings alone.
    assert r.status_code == 200 and r.json()["status"] == "degraded"
    assert r.json()["local_embedding"] == "error" and r.json()["local_model"] == "unused"


@pytest.mark.usefixtures("_no_local_model", "_knowledge_settings_read_afresh")
def test_embedding_server_is_not_checked_when_knowledge_has_its_own_model(client, settings, closed_port_url):
    from knowledge.models import EmbeddingSettings

    settings.CHAT = {**settings.CHAT, "LOCAL_EMBEDDING_URL": closed_port_url}
    EmbeddingSettings.objects.update_or_create(
        pk=1, defaults={"enabled": True, "base_url": "http://127.0.0.1:9/v1", "model": "embed"}
    )

    r = client.get("/healthz")

    assert r.status_code == 200 and r.json()["local_embedding"] == "unused"


@pytest.mark.slow
@pytest.mark.usefixtures("_no_local_model", "_knowledge_settings_read_afresh")
def test_embedding_server_up_is_ok(client, local_embedding):
    r = client.get("/healthz")

    assert r.status_code == 200 and r.json()["local_embedding"] == "ok"
