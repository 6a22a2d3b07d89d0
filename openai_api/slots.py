"""A ``/v1`` request beyond the plan's concurrent replies waits for a slot, as clients expect.

OpenAI's API has no "one reply at a time": async clients, LangChain's ``batch()`` and agents send
several requests at once and read a final-looking 429 as a failure. So a request refused for the
plan's ``max_concurrent_generations`` waits, at most ``CHAT_API_SLOT_WAIT_SECONDS``, for one of the
user's replies to end, then tries again; past the wait it is a 429 ``rate_limit_exceeded`` with
``Retry-After`` that OpenAI's SDKs retry by themselves (``errors.SlotBusy``). Only the day's quota
is a final 429.

Waiting costs no thread and no row (the refused start rolled back: no conversation, no ledger
entry). A reply that ends in this process wakes its waiters at once (its event log's end, which
is published after its row is final); one in another process, or one not started yet, is seen by
a look at the user's replies in flight every ``POLL_SECONDS``. A client that goes away stops its
reply (``views._stop_unless_done``, and for a stream ``ReplyStreamingResponse.close``, whatever
holds the stream); the stop lands a moment later, and a request sent right after it ("stop, then
send the next") waits for that moment instead of failing.
"""

import asyncio
import time
from collections import Counter

from django.conf import settings
from django.http import StreamingHttpResponse

from conversations import generation
from conversations.models import Message
from conversations.streaming import eventlog
from core.db import db_sync_to_async

from . import errors

POLL_SECONDS = 0.25
# Requests of one user waiting in one process; more are refused at once (each waiting request
# looks at the database every POLL_SECONDS, and a script could open any number of them).
MAX_WAITING_PER_USER = 16

_waiting: Counter = Counter()


async def start_when_free(start, user, *args):
    """``start(user, *args)`` on the sync thread; while it raises ``errors.SlotBusy``, wait for one
    of ``user``'s replies to end (until ``CHAT_API_SLOT_WAIT_SECONDS`` have passed) and try again."""
    deadline = time.monotonic() + settings.CHAT["API_SLOT_WAIT_SECONDS"]
    try:
        return await _started(start, user, *args)
    except errors.SlotBusy:
        if time.monotonic() >= deadline or _waiting[user.pk] >= MAX_WAITING_PER_USER:
            raise
    _waiting[user.pk] += 1
    try:
        while True:
            await _one_ends(user, deadline=deadline)
            try:
                return await _started(start, user, *args)
            except errors.SlotBusy:
                if time.monotonic() >= deadline:
                    raise
    finally:
        _waiting[user.pk] -= 1
        if _waiting[user.pk] <= 0:
            del _waiting[user.pk]


# Stops of replies started for clients that had gone away (kept until done: tasks are weak).
_stopping: set = set()


async def _started(start, user, *args):
    """``start`` on the sync thread, which finishes even if the client goes away meanwhile: a reply
    it made for nobody is then stopped at once (it frees its slot and, having said nothing, costs
    no quota), rather than generated for nobody."""
    starting = asyncio.ensure_future(db_sync_to_async(start)(user, *args))
    try:
        return await asyncio.shield(starting)
    except asyncio.CancelledError:
        starting.add_done_callback(_stop_orphan)
        raise


def _stop_orphan(starting: asyncio.Future) -> None:
    if starting.cancelled() or starting.exception() is not None:
        return
    # Not on the request's thread: the request has ended, and its thread is another's by now.
    stop_reply = db_sync_to_async(generation.request_stop, thread_sensitive=False)
    stop = asyncio.ensure_future(stop_reply(message_id=starting.result().id))
    _stopping.add(stop)
    stop.add_done_callback(_stopping.discard)


def _in_flight(user) -> set[str]:
    return {str(pk) for pk in Message.objects.in_flight().filter(conversation__owner=user).values_list("pk", flat=True)}


async def _one_ends(user, *, deadline: float) -> None:
    """Return when one of the user's replies in flight ends (or none is left), or at ``deadline``."""
    busy = await db_sync_to_async(_in_flight)(user)
    look_again = time.monotonic() + POLL_SECONDS
    while busy and (now := time.monotonic()) < deadline:
        logs = [log for pk in busy if (log := eventlog.local_get(pk)) is not None]
        if any(log.finished for log in logs):
            return
        if now < look_again:  # woken by a delta of a reply that goes on, or not yet time to look
            await _any_event(logs, min(deadline, look_again) - now)
            continue
        still = await db_sync_to_async(_in_flight)(user)
        if busy - still:  # one of them ended (in another process); others may have started
            return
        busy, look_again = still, time.monotonic() + POLL_SECONDS


async def _any_event(logs: list, timeout: float) -> None:
    """Until an event is appended to one of ``logs``, at most ``timeout`` seconds."""
    if not logs:
        await asyncio.sleep(timeout)
        return
    waits = [asyncio.ensure_future(log.wait(timeout)) for log in logs]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


class ReplyStreamingResponse(StreamingHttpResponse):
    """A streamed reply's response, which stops its reply if it is closed before the reply ended.

    When the client goes away mid-stream, Django cancels the sending and closes the response, but
    leaves the stream's async generator (``views._stream``, whose ``finally`` stops the reply) to
    the garbage collector: it is finalised once nothing holds the response, at once as a rule, and
    only at the next collection when a reference cycle does. Closing is the moment the client is
    gone, so the slot is freed then, whatever holds the generator. Called on a thread (Django closes
    responses with ``sync_to_async``); a reply that ended costs one query here."""

    def __init__(self, streaming_content, *, reply_id, **kwargs):
        super().__init__(streaming_content, **kwargs)
        self.reply_id = reply_id

    def close(self):
        try:
            if Message.objects.in_flight().filter(pk=self.reply_id).exists():
                generation.request_stop(message_id=self.reply_id)
        finally:
            super().close()
