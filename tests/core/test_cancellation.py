"""A cancel is never lost on a stream's way: a client that leaves stops what it was reading.

Django cancels a view's task when its client goes away. Two things could lose that cancel: redis-py's
asyncio client (a command that completes as the cancel arrives returns normally) and, on Python
3.11, ``asyncio.wait_for`` (a cancel that arrives as the awaited future is woken). Either left a
``/v1`` stream following its reply to the end after its client had gone, holding the user's slot
(``tests/openai_api/test_concurrency.py``, on PostgreSQL and Redis, 5 runs in 6 before the fix).
"""

import asyncio
import os

import pytest

from conversations.streaming import eventlog
from core.cancellation import honouring_cancel


async def _swallowing_a_cancel(started: asyncio.Event) -> str:
    """What the libraries do at their worst: catch the cancel and return as if nothing happened."""
    started.set()
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        pass
    return "done"


async def _cancelled_during(call_factory) -> str:
    started = asyncio.Event()
    task = asyncio.ensure_future(call_factory(started))
    await started.wait()
    task.cancel()
    try:
        return await task
    except asyncio.CancelledError:
        return "cancelled"


async def test_a_swallowed_cancel_is_lost_without_the_guard():
    # The premise: awaited bare, the call returns normally and the task goes on.
    assert await _cancelled_during(_swallowing_a_cancel) == "done"


async def test_honouring_cancel_raises_the_cancel_a_call_swallowed():
    async def guarded(started):
        return await honouring_cancel(_swallowing_a_cancel(started))

    assert await _cancelled_during(guarded) == "cancelled"


async def test_honouring_cancel_returns_the_result_when_nothing_cancels():
    async def answer():
        await asyncio.sleep(0)
        return 42

    assert await honouring_cancel(answer()) == 42


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a Redis server (REDIS_URL)")
async def test_a_cancel_during_a_real_redis_command_always_ends_the_task():
    import redis.asyncio as redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    await client.set("cancel-probe", "1")
    outcomes = {"bare": {"cancelled": 0, "lost": 0}, "guarded": {"cancelled": 0, "lost": 0}}

    async def run(guarded: bool, delay: float) -> str:
        async def command():
            call = client.set("cancel-probe", "1")
            await (honouring_cancel(call) if guarded else call)
            return "lost" if asyncio.current_task().cancelling() else "finished"

        task = asyncio.ensure_future(command())
        await asyncio.sleep(delay)
        task.cancel()
        try:
            return await task
        except asyncio.CancelledError:
            return "cancelled"

    try:
        for attempt in range(300):
            delay = (attempt % 30) * 0.00005  # across the command's round trip
            for guarded, name in ((False, "bare"), (True, "guarded")):
                outcome = await run(guarded, delay)
                if outcome in outcomes[name]:
                    outcomes[name][outcome] += 1
    finally:
        await client.aclose()

    assert outcomes["guarded"]["lost"] == 0, outcomes
    assert outcomes["guarded"]["cancelled"] > 0, outcomes


async def test_a_cancel_that_arrives_as_the_log_wakes_its_listener_ends_the_wait():
    log = eventlog.ReplyLog(message_id="m", conversation_id="c")
    waiting = asyncio.ensure_future(log.wait(10))
    await asyncio.sleep(0)  # the listener now waits on the log
    log.wake()  # an event arrives...
    waiting.cancel()  # ...in the same turn of the loop as the client leaves
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_a_log_wait_still_returns_on_an_event_and_on_its_timeout():
    log = eventlog.ReplyLog(message_id="m", conversation_id="c")
    waiting = asyncio.ensure_future(log.wait(10))
    await asyncio.sleep(0)
    log.wake()
    await asyncio.wait_for(waiting, 1)  # woken, well before its timeout
    await log.wait(0.01)  # nothing comes: it returns after the timeout
