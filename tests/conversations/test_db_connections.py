"""Replies and streams must not pin database connections (a leak exhausts PostgreSQL).

Every connection the process opens is tracked through Django's ``connection_created`` signal;
after many replies sent and streamed through the real server, the number still open must not
have grown with the number of replies.
"""

import threading
import weakref
from types import SimpleNamespace

import httpx
import pytest
from django.db import connection
from django.db.backends.signals import connection_created

from core.db import close_background_connections, on_background_threads
from tests.conversations.test_stream import bearer, collect, make_model, wait_until_final
from tests.conversations.upstream import upstream  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def _reused(thread: threading.Thread) -> bool:
    return thread.name.startswith(("request", "asyncio"))


@pytest.fixture
def open_connections():
    """``open_connections(request_threads=False)``: how many are open, those of threads that serve
    one request or call after another (kept between them on SQLite: core/asgi.py's, and the loop's
    executor of ``db_sync_to_async(thread_sensitive=False)``) counted apart."""
    wrappers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def remember(sender, connection, **kwargs):
        wrappers[connection] = _reused(threading.current_thread())

    def count(request_threads: bool = False) -> int:
        return sum(
            1
            for wrapper, of_request in list(wrappers.items())
            if wrapper.connection is not None and of_request == request_threads
        )

    connection_created.connect(remember, weak=False)
    yield count
    connection_created.disconnect(remember)


def _send_and_stream(base, headers, model_slug) -> None:
    created = httpx.post(
        f"{base}/api/v1/conversations", json={"message": "hi", "model": model_slug}, headers=headers, timeout=20
    )
    assert created.status_code == 201, created.text
    events = collect(base, SimpleNamespace(pk=created.json()["id"]), headers)
    assert events[-1].name == "message.done"
    wait_until_final(created.json()["assistant_message"]["id"])


def test_replies_and_streams_do_not_keep_connections_open(asgi_server, upstream, user, open_connections):  # noqa: F811
    model = make_model(upstream, "normal:3")
    headers = bearer(user)
    _send_and_stream(asgi_server, headers, model.slug)  # warm up: the server's own threads connect once
    # Every replies' thread holds its one connection for good (core.db), here counted from now on.
    close_background_connections()
    on_background_threads(lambda: connection.ensure_connection())
    after_one = open_connections()

    for _ in range(8):
        _send_and_stream(asgi_server, headers, model.slug)

    assert open_connections() <= after_one
    # A request's thread keeps its connection for the next request (SQLite), one a thread at most:
    # their number follows the requests at once, not the replies.
    live_threads = sum(1 for thread in threading.enumerate() if _reused(thread))
    assert open_connections(request_threads=True) <= live_threads
