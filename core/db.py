"""Database calls from async code that lives outside Django's request cycle.

Django hands a thread its connection back only at request boundaries. Long-lived SSE/WebSocket
streams call the ORM from a request thread that finishes only when the stream ends, so each
waiting stream would hold an open connection (50 idle streams held 50 on PostgreSQL):
``db_sync_to_async`` closes the thread's connection after each call, as Channels'
``database_sync_to_async`` does, except inside an atomic block, which the caller still owns
(tests run inside one). "Closes" as Django's request end does: a connection past its
``CONN_MAX_AGE``, i.e. always with PostgreSQL (whose pool takes it back); SQLite's are kept by
their thread for its next call (``DB_CONN_MAX_AGE``), since the threads are reused and few.

Background work (generation tasks, the reaper) makes many small calls instead: it runs them on
threads of its own, each keeping its connection open (``background_db_sync_to_async``), dropping
it only after a database error so the next call reconnects (e.g. after a PostgreSQL restart).
Threads of their own, not asgiref's one sync thread, so under load the claims, checkpoints and
final saves of replies do not queue behind the sync views of requests (and the reverse).

How many: ``CHAT_BACKGROUND_DB_THREADS``; by default 4 on PostgreSQL and 1 on SQLite. On
PostgreSQL a commit waits for its WAL to reach the disk, and one thread left the replies of a busy
process queued behind each other's commits while the core idled (N=100 on one core: 80 % busy,
p95 added time to first token 4.6 s with one thread, 2.1 s with four: docs/benchmarks.md). SQLite
has one writer: more threads would only wait for its lock. A reply's own calls stay in order: it
awaits each, and a call whose caller is cancelled (a stop) still ends before the cancel goes on,
so the reply's next call (on another thread) never overtakes it. Calls of different replies may
run at once, which their conditional UPDATEs allow (they are written for several processes).
"""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import wraps

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, connections


def _closing(func):
    @wraps(func)
    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        finally:
            if not connection.in_atomic_block:
                close_old_connections()

    return run


def db_sync_to_async(func, *, thread_sensitive: bool = True):
    """``sync_to_async`` for ORM work that must not pin a connection to its thread."""
    return sync_to_async(_closing(func), thread_sensitive=thread_sensitive)


def _reconnecting_after_errors(func):
    @wraps(func)
    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except DatabaseError:
            if not connection.in_atomic_block:
                connection.close()
            raise

    return run


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def background_threads() -> int:
    configured = settings.CHAT["BACKGROUND_DB_THREADS"]
    if configured > 0:
        return configured
    return 1 if connection.vendor == "sqlite" else 4


def _background_executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=background_threads(), thread_name_prefix="background-db")
    return _executor


def background_db_sync_to_async(func):
    """``sync_to_async`` for background ORM work: a few threads, each with a long-lived connection.

    Call it from a task that does not belong to a request (see ``generation.start_generation``).
    Its calls never see a caller's open transaction: a reply's rows must be committed before it
    starts (``transaction.on_commit``), and tests that run replies use committed data
    (``django_db(transaction=True)``).
    """
    call = sync_to_async(_reconnecting_after_errors(func), thread_sensitive=False, executor=_background_executor())

    @wraps(func)
    async def in_order(*args, **kwargs):
        running = asyncio.ensure_future(call(*args, **kwargs))
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            # A thread cannot be interrupted: the call goes on. Wait for it, so that what the
            # caller does next (a stopped reply's final save, on another thread) comes after it.
            await asyncio.wait((running,))
            raise

    return in_order


_each_thread_lock = threading.Lock()


def on_background_threads(func, *, timeout: float = 10) -> list:
    """Run ``func`` once on each background thread (with its connection); their results.

    Each call waits at a barrier until every thread holds one, so no thread runs two; one such
    round at a time, or two rounds could split the threads between their barriers."""
    executor = _background_executor()
    count = executor._max_workers  # what it was made with, whatever the settings say now
    barrier = threading.Barrier(count)

    def once():
        barrier.wait(timeout)
        return func()

    with _each_thread_lock:
        futures = [executor.submit(once) for _ in range(count)]
        return [future.result(timeout=timeout) for future in futures]


def close_background_connections(timeout: float = 10) -> None:
    """Close the background threads' connections: at server shutdown, and in tests before the test
    database is dropped (PostgreSQL refuses while a session is open)."""
    on_background_threads(connections.close_all, timeout=timeout)
