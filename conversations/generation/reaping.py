"""Ending replies whose worker is gone, and announcing ends that no generator announced.

A reply whose worker died (crash, kill -9, lost process) keeps status ``streaming`` with a heartbeat
that no longer moves; the reaper marks it ``interrupted`` with the text saved or logged, and
publishes its last events numbered above any id a client can have received (see ``rows``).
Every server process reaps periodically; a single-process server (no Redis) also reaps every
in-flight reply when it starts, since none of them can still have a worker.
"""

import asyncio
import logging

from asgiref.sync import async_to_sync
from django.conf import settings
from django.utils.translation import gettext as _

from core.db import background_db_sync_to_async

from ..models import Message, MessageStatus
from ..streaming import eventlog
from ..streaming.events import Done, Error, Event, EventName, Snapshot, TokenUsage
from . import rows
from .runner import running

logger = logging.getLogger(__name__)


def _last_events(message: Message, *, base: int, text: str | None) -> list[Event]:
    """The end of a reply after event ``base``: its text if the log lacks it, the error, done."""
    message_id = str(message.id)
    events: list[Event] = []
    if text is not None:
        snapshot = Snapshot(message_id, text, base + 1, message.sources or [], message.tool_calls, message.notices)
        events.append(Event(base + len(events) + 1, EventName.SNAPSHOT, snapshot))
    if message.error_code:
        events.append(
            Event(base + len(events) + 1, EventName.ERROR, Error(message_id, message.error_code, message.error))
        )
    usage = TokenUsage(message.prompt_tokens or 0, message.completion_tokens or 0)
    events.append(Event(base + len(events) + 1, EventName.DONE, Done(message_id, message.status, usage)))
    return events


async def _logged(message_id) -> list[Event]:
    log = eventlog.local_get(message_id)
    if log is not None:
        return log.events
    if eventlog.shared():
        return await eventlog.shared_read(message_id)
    return []


async def _publish(message: Message, events: list[Event]) -> None:
    log = eventlog.local_get(message.id)
    if log is not None:
        for event in events:
            log.append(event)
        await log.drain()
    elif eventlog.shared():
        await eventlog.shared_append(message.id, message.conversation_id, events)
    else:  # listeners of this process waiting for the reply find its end here
        eventlog.local_create(message_id=message.id, conversation_id=message.conversation_id, events=events)


async def reap_stale(*, conversation_id=None, message_ids=None, stale_after: float | None = None) -> int:
    """Mark replies whose worker stopped beating ``interrupted``; returns how many."""
    stale = await background_db_sync_to_async(rows.replies_stale)(
        conversation_id=conversation_id, message_ids=message_ids, stale_after=stale_after
    )
    reaped = 0
    for message in stale:
        run = running(message.id)
        if run is not None:
            run.stop(lost=True)  # alive here but silent: the reaper's end wins
        logged = await _logged(message.id)
        logged_text = eventlog.text_of(logged)
        # The log may hold text published after the last checkpoint: keep it.
        content = logged_text if logged and logged_text.startswith(message.content) else message.content
        if not rows.keeps_content(message.conversation):
            content = ""
        status_before = message.status
        message.status, message.error_code = MessageStatus.INTERRUPTED, "interrupted"
        message.tool_calls = rows.calls_ended(
            message.tool_calls, status="interrupted", why=_("The reply was interrupted.")
        )
        message.error = _("The worker generating this reply stopped before it finished.")
        if logged and not logged[-1].is_terminal:
            events = _last_events(message, base=logged[-1].id, text=None)
        else:  # the log died with its process: number the end above the reserved ceiling
            events = _last_events(message, base=message.stream_seq, text=content)
        if await background_db_sync_to_async(rows.reply_interrupt)(
            message=message, status_before=status_before, content=content, done_seq=events[-1].id
        ):
            reaped += 1
            await _publish(message, events)
    return reaped


def reap_stale_sync(**kwargs) -> int:
    return async_to_sync(reap_stale)(**kwargs)


async def publish_final(message: Message) -> None:
    """Announce the end of a reply that ended without its generator (stopped before start)."""
    await _publish(message, _last_events(message, base=0, text=message.content))


def publish_final_sync(message: Message) -> None:
    try:
        async_to_sync(publish_final)(message)
    except Exception:
        logger.warning("could not publish the end of %s", message.id, exc_info=True)


async def reap_periodically(*, on_start: bool) -> None:
    """Reap stale replies forever (one task per server process).

    ``on_start``: first reap every in-flight reply at once (single-process servers only).
    """
    if on_start:
        try:
            await reap_stale(stale_after=0)
        except Exception:
            logger.warning("reaping at start failed", exc_info=True)
    interval = max(0.05, settings.CHAT["STALE_AFTER_SECONDS"] / 2)
    while True:
        await asyncio.sleep(interval)
        try:
            await reap_stale()
        except Exception:  # a database hiccup must not end the loop
            logger.warning("periodic reaping failed", exc_info=True)
