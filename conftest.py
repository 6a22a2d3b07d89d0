"""Shared fixtures. Personas (as in healthchecks' tests): alice owns things, charlie is an outsider."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from rest_framework.test import APIClient

from accounts import services
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from testsupport.servers import serve_asgi, serve_model


@pytest.fixture(scope="session", autouse=True)
def _background_connection_closed_before_teardown(django_db_setup, django_db_blocker):
    # Set up after the test database, so torn down before it is dropped.
    yield
    from core.db import close_background_connections

    with django_db_blocker.unblock():
        close_background_connections()


@pytest.fixture(autouse=True)
def _default_language_and_zone():
    # A request of the test client runs in this thread: a user's saved language or zone it
    # activated would leak into the next test (a server answers each request in its own context).
    yield
    from django.utils import timezone, translation

    translation.activate(settings.LANGUAGE_CODE)
    timezone.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters and stream state live in the cache; each test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _language_reset():
    # A request answered in Korean leaves its language active in this thread (LocaleMiddleware
    # activates, nothing deactivates): the next test starts from LANGUAGE_CODE again.
    yield
    translation.deactivate()


@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory(email="alice@example.com", display_name="Alice")


alice = user


@pytest.fixture
def outsider(db):
    return UserFactory(email="charlie@example.com", display_name="Charlie")


@pytest.fixture
def staff_user(db):
    return UserFactory(email="staff@example.com", display_name="Staff", is_staff=True)


@pytest.fixture
def auth_client(db):
    """``auth_client(user, device_id=None)`` -> an APIClient signed in with a real device session."""

    def make(user, device_id: str | None = None, login_type: str = "local") -> APIClient:
        session = services.session_start(user=user, device_id=device_id, login_type=login_type)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {session.tokens.access}")
        client.session_tokens = session.tokens
        client.device = session.device
        client.user = user
        return client

    return make


@pytest.fixture
def user_client(auth_client, user) -> APIClient:
    return auth_client(user)


@pytest.fixture
def outsider_client(auth_client, outsider) -> APIClient:
    return auth_client(outsider)


@pytest.fixture
def staff_client(auth_client, staff_user) -> APIClient:
    return auth_client(staff_user)


@pytest.fixture
def asgi_server(transactional_db):
    """The project's ASGI app under a real uvicorn on 127.0.0.1, sharing the test database."""
    with serve_asgi() as base_url:
        yield base_url


@pytest.fixture(scope="session")
def model_server():
    """Base URL (``.../v1``) of the real embedded model server, one process for the whole session."""
    with serve_model() as base_url:
        yield base_url


@pytest.fixture
def local_model(settings, model_server):
    """Point the app's local model (``CHAT["LOCAL_MODEL_URL"]``) at the session's model server."""
    settings.CHAT = {**settings.CHAT, "LOCAL_MODEL_URL": model_server}
    yield model_server


@pytest.fixture(scope="session")
def embedding_server():
    """Base URL (``.../v1``) of the real embedded embedding server, one process for the session."""
    with serve_model(embedding=True) as base_url:
        yield base_url


@pytest.fixture
def local_embedding(settings, embedding_server):
    """Point ``CHAT["LOCAL_EMBEDDING_URL"]`` (the test profile leaves it empty) at the session's
    embedding server: ``/v1/embeddings``' default model."""
    settings.CHAT = {**settings.CHAT, "LOCAL_EMBEDDING_URL": embedding_server}
    yield embedding_server


@pytest.fixture
def local_model_row(db, local_model):
    """The local model's catalog row as the migration seeds it (a transactional test's flush
    removes what migrations made), pointed at the session's model server."""
    import importlib

    from conversations.models import LLMModel

    seeded = importlib.import_module("conversations.migrations.0002_seed_catalog").MODELS[0]
    row, _ = LLMModel.objects.get_or_create(
        slug=seeded["slug"],
        # The capabilities migration 0015 gives it.
        defaults={**{k: v for k, v in seeded.items() if k != "slug"}, "capabilities": ["structured_output"]},
    )
    return row


@pytest.fixture
def reuse_interval_over(settings):
    """Replays below happen "after" the refresh reuse interval: a rotated token is reuse at once."""
    settings.JWT_REFRESH_REUSE_SECONDS = 0
