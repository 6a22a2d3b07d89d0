"""Django's ASGI handler, with each request's thread taken from a pool of idle ones.

Django runs a request's sync code (the middleware, a sync view, the signals that open and close
its database connection) on a thread of the request's own (asgiref's ``ThreadSensitiveContext``),
which it makes at the request's first hop and ends with the request. Every request then paid for a
new thread and, since Django's database connections belong to their thread, a new connection: on
SQLite, opening the file and setting up the connection was most of a plain API request's CPU
(``bench/request_overhead.py``, docs/benchmarks.md). Here a request borrows a thread that outlives
it, so its connection can too (``CONN_MAX_AGE``; PostgreSQL's come from the pool either way): the
same one-thread-a-request rule, as under WSGI's reused threads. A request never waits for a thread:
when none is idle, a new one is made, and at most ``IDLE_THREADS_KEPT`` idle ones are kept."""

from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler
from django.db import connections

IDLE_THREADS_KEPT = 32


class RequestThreads:
    """Single-thread executors lent to one request at a time. Used from the event loop only."""

    def __init__(self, keep: int = IDLE_THREADS_KEPT):
        self.keep = keep
        self.idle: list[ThreadPoolExecutor] = []

    def take(self) -> ThreadPoolExecutor:
        return self.idle.pop() if self.idle else ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        if len(self.idle) < self.keep:
            self.idle.append(executor)
            return
        executor.submit(connections.close_all)  # its connection goes with it, not with the GC
        executor.shutdown(wait=False)


class PooledThreadASGIHandler(ASGIHandler):
    def __init__(self):
        super().__init__()
        self.threads = RequestThreads()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)  # Django's own refusal
        executor = self.threads.take()
        try:
            # asgiref's own way to give a request's thread-sensitive calls an executor it keeps.
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.threads.give_back(executor)


def asgi_application() -> PooledThreadASGIHandler:
    django.setup(set_prefix=False)
    return PooledThreadASGIHandler()
