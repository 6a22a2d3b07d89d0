"""Database calls from async code that lives outside Django's request cycle.

Django hands a thread its connection back only at request boundaries. Generation tasks, the
periodic reaper and long-lived SSE/WebSocket streams call the ORM from threads that no request
ever finishes (or finishes only when the stream ends), so each such thread would keep one open
connection: on PostgreSQL, replies leaked connections and 50 idle streams held 50 of them. These
helpers close the thread's connection after each call, as Channels' ``database_sync_to_async``
does, except inside an atomic block, which the caller still owns (tests run inside one).
"""

from functools import wraps

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection


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
