"""With the shared cache (Redis) unreachable, requests that do not need it keep working: throttles
count in the process's memory instead of answering 500, and still limit."""

import pytest

from core import throttles

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_cache_down(monkeypatch):
    def fail(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(throttles.shared_cache, "get", fail)
    monkeypatch.setattr(throttles.shared_cache, "set", fail)
    throttles.throttle_cache.local.clear()
    yield
    throttles.throttle_cache.local.clear()


def test_requests_keep_working_and_are_still_throttled_while_the_cache_is_down(
    shared_cache_down, api_client, user_client, settings, caplog
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "3/min"},
    }
    assert user_client.get("/api/v1/conversations").status_code == 200
    statuses = [api_client.get("/api/v1/models").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert "fall back" in caplog.text
