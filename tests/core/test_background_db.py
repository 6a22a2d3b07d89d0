"""The replies' background database threads (``core.db``): how many, and that each is reached."""

import asyncio
import threading
import time

import pytest
from django.db import connection

from core.db import background_db_sync_to_async, background_threads, close_background_connections, on_background_threads


def test_by_default_four_threads_on_postgresql_and_one_on_sqlite(settings):
    settings.CHAT = {**settings.CHAT, "BACKGROUND_DB_THREADS": 0}
    assert background_threads() == (1 if connection.vendor == "sqlite" else 4)
    settings.CHAT = {**settings.CHAT, "BACKGROUND_DB_THREADS": 3}
    assert background_threads() == 3


def test_a_call_on_each_background_thread_reaches_every_thread_once():
    idents = on_background_threads(threading.get_ident)
    assert len(idents) == background_threads()
    assert len(set(idents)) == len(idents)
    assert threading.get_ident() not in idents


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL sessions (the PostgreSQL pass of CI)")
def test_closing_the_background_connections_ends_every_threads_session():
    def backend_pid():
        connection.ensure_connection()
        return connection.connection.info.backend_pid

    pids = on_background_threads(backend_pid)
    assert _sessions(pids) == len(pids) == len(set(pids))

    close_background_connections()

    deadline = time.monotonic() + 5  # a backend leaves pg_stat_activity a moment after its client
    while (left := _sessions(pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == 0


def _sessions(pids) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
        return cursor.fetchone()[0]


async def test_a_cancelled_background_call_ends_before_its_caller_goes_on():
    # A stop cancels a reply while a call of it runs on one thread; its final save goes to another
    # thread, and must not overtake the call (a tool call's row inserted after the reply ended
    # would stay "running" for ever).
    started, release, finished = threading.Event(), threading.Event(), []

    def slow_call():
        started.set()
        release.wait(5)
        finished.append(True)

    caller = asyncio.ensure_future(background_db_sync_to_async(slow_call)())
    await asyncio.to_thread(started.wait, 5)
    caller.cancel()
    await asyncio.sleep(0.1)
    assert not caller.done()  # the cancel waits for the thread's call
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert finished == [True]
