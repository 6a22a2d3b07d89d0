"""The ASGI handler (core/asgi.py) lends each request a thread that outlives it, so its database
connection can too; through a real uvicorn server."""

import asyncio
import threading

import httpx
import pytest
from django.core.signals import request_started
from django.db import connection
from django.db.backends.signals import connection_created

from core.asgi import RequestThreads
from testsupport.servers import serve_asgi

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(transactional_db):
    """Without the lifespan's periodic reaper, whose database work would be counted too."""
    with serve_asgi(lifespan="off") as base_url:
        yield base_url


def _get_many(base_url: str, token: str, count: int) -> None:
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(count):
            assert client.get("/api/v1/user").status_code == 200


def test_requests_one_after_another_run_on_one_thread_and_connection(server, user, auth_client):
    token = auth_client(user).session_tokens.access
    _get_many(server, token, 10)  # the threads are made now
    threads, opened = [], []

    def on_request(**kwargs):
        threads.append(threading.current_thread())

    def on_connect(sender, connection, **kwargs):
        opened.append(connection.alias)

    request_started.connect(on_request)
    connection_created.connect(on_connect)
    try:
        _get_many(server, token, 10)
    finally:
        request_started.disconnect(on_request)
        connection_created.disconnect(on_connect)

    # Django's own handler made a thread for each (10 threads) and, with it, a connection. Here
    # there may be two: the next request can arrive once the answer is sent, before its thread
    # is given back.
    assert len(threads) == 10
    assert len(set(threads)) <= 2
    if connection.vendor == "sqlite":  # PostgreSQL's come from the pool (the tests run without one)
        assert len(opened) <= 1


def test_requests_at_once_each_get_a_thread_and_idle_ones_are_kept_up_to_a_bound():
    pool = RequestThreads(keep=2)
    lent = [pool.take() for _ in range(3)]
    assert len({id(executor) for executor in lent}) == 3
    for executor in lent:
        pool.give_back(executor)
    assert pool.idle == lent[:2]
    assert lent[2]._shutdown
    assert pool.take() is lent[1]


def test_an_async_view_is_cancelled_when_its_client_leaves(server, monkeypatch):
    from config import health

    started, cancelled = threading.Event(), threading.Event()

    async def slow_check():
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    monkeypatch.setattr(health, "_check_local_model", slow_check)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{server}/healthz", timeout=httpx.Timeout(5, read=0.5))
    assert started.is_set()
    assert cancelled.wait(3), "the view ran on after its client left"
