"""A cancel that a library swallowed, raised again.

Django cancels a view's task when its client goes away, and a stream's ``finally`` then stops the
reply nobody reads. redis-py's asyncio client can lose that cancel when it arrives as a command
completes: the command returns normally and the task goes on (redis/redis-py#2028 and #2551; here
about one cancel in ten during channels_redis' ``group_add`` or a plain ``SET``, seen with
redis 8.1). A stream whose client left would then follow its reply to the end, holding the user's
slot. The task still counts the request (``Task.cancelling()``) until someone withdraws it with
``uncancel()``, so the loss can be seen right after the call and undone.

Only where the task's cancel means "stop": a task that catches a ``CancelledError`` and carries on
must call ``uncancel()`` (as the reply runner does), or these would raise on its next call.
"""

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


def raise_if_cancelled() -> None:
    """Raise ``CancelledError`` if this task was asked to stop and the request was lost on the way."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def honouring_cancel(call: Awaitable[T]) -> T:
    """``await call``, then raise the cancel it may have swallowed (for Redis calls on a request's
    way forward; not in cleanup, where a cancel being handled is still counted)."""
    result = await call
    raise_if_cancelled()
    return result
