import pytest
from channels.layers import channel_layers

from conversations.models import LLMModel, Provider

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_local_model(db):
    # The local model server's check is tested in tests/config/test_health.py.
    LLMModel.objects.filter(provider=Provider.LOCAL).update(enabled=False)


def test_healthz_reports_database_and_channel_layer(client):
    r = client.get("/healthz")

    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "database": "ok",
        "channel_layer": "ok",
        "local_model": "unused",
        "local_embedding": "unused",
    }
    assert r["X-Request-ID"]


def test_healthz_says_what_is_broken(client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }
    channel_layers.backends.clear()  # the layer is built once per process; rebuild it from settings
    try:
        r = client.get("/healthz")
    finally:
        channel_layers.backends.clear()

    assert r.status_code == 503
    assert r.json() == {
        "status": "error",
        "database": "ok",
        "channel_layer": "error",
        "local_model": "unused",
        "local_embedding": "unused",
    }
