"""Running a reply to its end from a test, as the server's task would (``run_reply`` on a loop of
its own), for tests that need the finished reply before they look. The reply's rows must be
committed (``django_db(transaction=True)``): its database calls run on the background thread."""

import threading
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from django.db import connection

from conversations.generation.scheduling import run_reply
from core.db import on_background_threads


def finish_reply(*, message_id) -> None:
    async_to_sync(run_reply)(message_id)


@contextmanager
def background_statements():
    """The SQL statements the background threads run in the block (replies' claims, checkpoints
    and final saves run there, on connections of their own), as a list of strings."""
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    def install():
        wrapper = connection.execute_wrapper(record)
        wrapper.__enter__()
        return threading.get_ident(), wrapper

    wrappers = dict(on_background_threads(install))
    try:
        yield statements
    finally:
        on_background_threads(lambda: wrappers[threading.get_ident()].__exit__(None, None, None))
