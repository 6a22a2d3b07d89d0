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

from asgiref.sync import AsyncToSync, sync_to_async
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


def inside_async_to_sync() -> bool:
    # asgiref marks a coroutine run by async_to_sync with the executor of its calling thread (the
    # one place this project reads that attribute; tests of ``generate_now`` fail if it moves).
    return getattr(AsyncToSync.executors, "current", None) is not None


def background_db_sync_to_async(func):
    """``sync_to_async`` for background ORM work: one thread and one long-lived connection.

    Call it from a task that does not belong to a request (see ``generation.start_generation``).
    Inside ``async_to_sync`` (``generate_now``, tests) the calls come back to the calling thread, so
    they see its transaction. That is read from the task's context: a task that outlives the call
    that created it (e.g. the reply supervisor) must be started with an empty one, or its calls go
    to a thread that is gone.
    """
    run = _reconnecting_after_errors(func)
    if inside_async_to_sync():
        return sync_to_async(run, thread_sensitive=True)
    return sync_to_async(run, thread_sensitive=False, executor=_background_executor)


def close_background_connections(timeout: float = 10) -> None:
    """Close the background thread's connection: at server shutdown, and in tests before the test
    database is dropped (PostgreSQL refuses while a session is open)."""
    _background_executor.submit(connections.close_all).result(timeout=timeout)
