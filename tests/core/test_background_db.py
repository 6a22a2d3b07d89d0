"""The replies' background database threads (``core.db``): how many, and that each is reached."""

import threading
import time

import pytest
from django.db import connection

from core.db import background_threads, close_background_connections, on_background_threads


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
