"""Database calls from async code that lives outside Django's request cycle.

Django hands a thread its connection back only at request boundaries. Long-lived SSE/WebSocket
streams call the ORM from a request thread that finishes only when the stream ends, so each
waiting stream would hold an open connection (50 idle streams held 50 on PostgreSQL):
``db_sync_to_async`` closes the thread's connection after each call, as Channels'
``database_sync_to_async`` does, except inside an atomic block, which the caller still owns
(tests run inside one).

Background work (generation tasks, the reaper) makes many small calls instead: it runs them on a
thread of its own and keeps that thread's single connection open (``background_db_sync_to_async``),
dropping it only after a database error so the next call reconnects (e.g. after a PostgreSQL
restart). Its own thread, not asgiref's one sync thread, so under load the claims, checkpoints and
final saves of replies do not queue behind the sync views of requests (and the reverse).
"""

from concurrent.futures import ThreadPoolExecutor
from functools import wraps

from asgiref.sync import sync_to_async
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


_background_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="background-db")


def background_db_sync_to_async(func):
    """``sync_to_async`` for background ORM work: one thread and one long-lived connection.

    Call it from a task that does not belong to a request (see ``generation.start_generation``).
    Its calls never see a caller's open transaction: a reply's rows must be committed before it
    starts (``transaction.on_commit``), and tests that run replies use committed data
    (``django_db(transaction=True)``).
    """
    return sync_to_async(_reconnecting_after_errors(func), thread_sensitive=False, executor=_background_executor)


def on_background_thread(func, *, timeout: float = 10):
    """Run ``func`` on the background thread (with its connection) and return its result."""
    return _background_executor.submit(func).result(timeout=timeout)


def close_background_connections(timeout: float = 10) -> None:
    """Close the background thread's connection: at server shutdown, and in tests before the test
    database is dropped (PostgreSQL refuses while a session is open)."""
    on_background_thread(connections.close_all, timeout=timeout)
