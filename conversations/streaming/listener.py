"""Following a conversation's current (or last) reply for one client (SSE or WebSocket).

A client sends the id of the last event it received (``Last-Event-ID``), or nothing when it joins
late. It gets every event after that id exactly once, in order, and the stream ends after
``message.done``; a late joiner first gets a ``snapshot`` of the text so far. Where the events come
from, cheapest first:

1. the reply's log in this process (the generator runs here, or ran here recently): read the
   list and wait on it, woken by the append itself;
2. with Redis, the shared log: subscribe to the conversation's Channels group *first*, then read
   the list, then forward live events; a gap or a quiet second is filled from the list again
   (a listener served from 1 never subscribes, so it costs the channel layer nothing);
3. no log at all: the saved row. A finished reply yields a ``snapshot`` and ``message.done``
   numbered above the client's id; one in flight without a log is starting (its log appears in a
   moment) or lost its worker (the reaper ends it, and the end comes from 1, 2 or 3).
"""

import asyncio
import bisect
import logging
import time
from collections.abc import AsyncIterator

from channels.layers import get_channel_layer
from django.db.models import Case, F, Subquery, When

from core.cancellation import honouring_cancel, raise_if_cancelled
from core.db import db_sync_to_async

from .. import generation
from ..models import IN_FLIGHT_STATUSES, Conversation, Message, MessageStatus, Role
from . import eventlog
from .events import Done, Event, EventName, Snapshot, TokenUsage

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
# How long a listener waits for a live event before looking at the log or row itself.
IDLE_RECHECK_SECONDS = 1.0
# Consecutive channel-layer/Redis failures after which a stream ends (the client then resumes).
MAX_CONSECUTIVE_FAILURES = 5

_NOT_LOADED = object()
_ROW_FIELDS = (
    "id",
    "conversation_id",
    "status",
    "content",
    "stream_seq",
    "prompt_tokens",
    "completion_tokens",
    "finish_reason",
    "sources",
    "tool_calls",
    "notices",
)


def final_events_from_row(message: Message, *, after: int | None) -> list[Event]:
    """A finished reply without a log: its text as a snapshot, then its final state, both numbered
    above ``after`` (whatever numbering the client saw before its log was lost)."""
    message_id = str(message.id)
    snapshot_id = max(max(message.stream_seq, 2) - 1, (after or 0) + 1)
    usage = TokenUsage(message.prompt_tokens or 0, message.completion_tokens or 0)
    return [
        Event(
            snapshot_id,
            EventName.SNAPSHOT,
            Snapshot(message_id, message.content, snapshot_id, message.sources, message.tool_calls, message.notices),
        ),
        Event(snapshot_id + 1, EventName.DONE, Done(message_id, message.status, usage, message.finish_reason)),
    ]


def last_reply(conversation_id) -> Message | None:
    """The conversation's newest assistant message, on whichever branch."""
    return (
        Message.objects.filter(conversation_id=conversation_id, role=Role.ASSISTANT)
        .order_by("-created_at", "-id")
        .only(*_ROW_FIELDS)
        .first()
    )


def reply_to_follow(conversation_id, *, message_id=None) -> Message | None:
    """The reply a stream follows: ``message_id`` (a reply of this conversation, else None), or the
    current leaf when it is a reply (what the user is looking at), else the newest reply."""
    replies = Message.objects.filter(conversation_id=conversation_id, role=Role.ASSISTANT).only(*_ROW_FIELDS)
    if message_id is not None:
        return replies.filter(pk=message_id).first()
    current = Conversation.objects.filter(pk=conversation_id).values("current_message_id")[:1]
    return replies.filter(pk=Subquery(current)).first() or last_reply(conversation_id)


def reply_asked_for(conversation_id, *, wanted=None, resumed=None) -> Message | None:
    """The reply a client (SSE or WebSocket) follows: ``wanted`` (it named one: None if that is no
    reply here), else the one its last event id belongs to, else ``reply_to_follow``'s default
    (an id of no reply here is no reason to follow nothing)."""
    message = reply_to_follow(conversation_id, message_id=wanted or resumed)
    if message is None and wanted is None and resumed is not None:
        message = reply_to_follow(conversation_id)
    return message


def reply_among(conversations, conversation_id, *, wanted=None, resumed=None) -> Message | None:
    """``reply_asked_for`` in one statement, in the conversation ``conversation_id`` if it is one
    of ``conversations`` (the caller's "yours or nothing"): None when it is not, or has no such
    reply (the caller tells the two apart only then)."""
    scope = conversations.filter(pk=conversation_id).values("pk")
    replies = Message.objects.filter(conversation_id=conversation_id, conversation__in=scope, role=Role.ASSISTANT)
    replies = replies.only(*_ROW_FIELDS)
    if wanted is not None:
        return replies.filter(pk=wanted).first()
    # The reply of the last event the client has, else the current leaf, else the newest reply.
    first = [Case(When(pk=resumed, then=0), default=1)] if resumed is not None else []
    current = Case(When(pk=F("conversation__current_message_id"), then=0), default=1)
    return replies.order_by(*first, current, "-created_at", "-id").first()


def _row(message_id) -> Message | None:
    return Message.objects.filter(pk=message_id).only(*_ROW_FIELDS).first()


class Listener:
    """``await open()`` before answering the client (so nothing published after the answer can be
    missed), then iterate ``events()``: events, and ``None`` as a keep-alive."""

    def __init__(
        self, *, conversation_id, last_event_id: int | None = None, message=_NOT_LOADED, starts_here: bool = False
    ):
        # ``last_event_id``: the number of the last event of *this* reply the client has.
        self.conversation_id = conversation_id
        # ``starts_here``: the reply was just asked for in this process, which runs it (a send
        # answered with its stream): its log will be here, so the listener never joins the
        # conversation's Redis group nor sets its watch key (which would make the generator
        # announce every event to other processes for nothing, for the key's minute).
        self.starts_here = starts_here
        self.sent = last_event_id
        # ``message``: the last reply, when the caller read it already (see ``last_reply``).
        self.message: Message | None = message
        self.layer = None
        self.channel: str | None = None
        self.last_output = time.monotonic()
        self.watched_at = 0.0
        self.stopped = False
        self._log: eventlog.ReplyLog | None = None

    def stop(self) -> None:
        """End the stream at the listener's next look (within a second), e.g. after a sign-out."""
        self.stopped = True
        if self._log is not None:
            self._log.wake()

    async def open(self) -> None:
        if self.message is _NOT_LOADED:
            self.message = await db_sync_to_async(reply_to_follow)(self.conversation_id)
        if self.message is not None and self.message.status == MessageStatus.PENDING and self.sent is None:
            self.sent = 0  # here before the reply began: it gets every event from the first

    async def _subscribe(self) -> None:
        """Join the conversation's group (before reading the shared log, so nothing falls between)."""
        if self.channel is None:
            self.layer = get_channel_layer()
            self.channel = await self.layer.new_channel()
            await honouring_cancel(self.layer.group_add(eventlog.group_name(self.conversation_id), self.channel))
            await self._watch()

    async def _watch(self) -> None:
        self.watched_at = time.monotonic()
        await honouring_cancel(eventlog.shared_watch(self.conversation_id))

    async def close(self) -> None:
        if self.channel is not None:
            channel, self.channel = self.channel, None
            await self.layer.group_discard(eventlog.group_name(self.conversation_id), channel)

    async def events(self) -> AsyncIterator[Event | None]:
        try:
            if self.message is not None:
                async for event in self._events(str(self.message.id)):
                    yield event
        finally:
            await self.close()

    def _keepalive_due(self) -> bool:
        if time.monotonic() - self.last_output >= KEEPALIVE_SECONDS:
            self.last_output = time.monotonic()
            return True
        return False

    def _emit(self, event: Event) -> Event:
        self.sent = event.id
        self.last_output = time.monotonic()
        return event

    async def _events(self, message_id: str) -> AsyncIterator[Event | None]:
        reaped = False
        while not self.stopped:
            log = eventlog.local_get(message_id)
            if log is not None:
                # The reply runs here: the group has nothing more to say.
                await honouring_cancel(self.close())
                async for event in self._follow_local(log):
                    yield event
                return
            if eventlog.shared() and not self.starts_here:
                await self._subscribe()
                logged = await honouring_cancel(eventlog.shared_read(message_id))
                if logged:
                    async for event in self._follow_shared(message_id, logged):
                        yield event
                    return
            row = await db_sync_to_async(_row)(message_id)
            if row is None:
                return
            if row.status not in IN_FLIGHT_STATUSES:
                for event in final_events_from_row(row, after=self.sent):
                    yield self._emit(event)
                return
            if self.sent is None and row.status == MessageStatus.PENDING:
                self.sent = 0  # here before the reply began: it gets every event from the first
            if not reaped:
                # In flight without a log: starting (its log appears in a moment), or its worker
                # died, which a stale heartbeat shows: settle that before anyone waits on it.
                reaped = True
                if await honouring_cancel(generation.reap_stale(message_ids=[message_id])):
                    continue
            await self._wait_for_start(message_id)
            if self._keepalive_due():
                yield None

    async def _wait_for_start(self, message_id: str) -> None:
        """Until the reply's log appears here, or (with Redis) anywhere, or a quiet second passes."""
        created = asyncio.ensure_future(eventlog.local_wait_created(message_id, IDLE_RECHECK_SECONDS))
        if self.channel is None:
            await created
            return
        announced = asyncio.ensure_future(self._receive())
        try:
            await asyncio.wait({created, announced}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (created, announced):
                waiter.cancel()
        if announced.done() and not announced.cancelled() and announced.exception() is not None:
            logger.warning("stream of %s: channel layer receive failed", message_id, exc_info=announced.exception())
            await asyncio.sleep(0.1)

    async def _follow_local(self, log: eventlog.ReplyLog) -> AsyncIterator[Event | None]:
        raise_if_cancelled()  # its waits are on the log alone: a cancel lost before here stays lost
        events = log.events
        self._log = log
        if self.sent is None:
            yield self._emit(log.snapshot())
        index = bisect.bisect_right(events, self.sent, key=lambda e: e.id)
        while not self.stopped:
            if index < len(events):
                batch, index = events[index:], len(events)
                for event in batch:
                    if event.id > self.sent:
                        yield self._emit(event)
                        if event.is_terminal:
                            return
            elif log.finished:
                return
            else:
                await log.wait(KEEPALIVE_SECONDS)
                if index == len(events) and self._keepalive_due():
                    yield None

    async def _follow_shared(self, message_id: str, logged: list[Event]) -> AsyncIterator[Event | None]:
        if self.sent is None:
            yield self._emit(eventlog.snapshot_of(logged, message_id))
        batch = logged
        failures = 0
        while not self.stopped:
            for event in batch:
                if event.id > self.sent:
                    yield self._emit(event)
                    if event.is_terminal:
                        return
            try:
                if time.monotonic() - self.watched_at >= eventlog.WATCH_REFRESH_SECONDS:
                    await self._watch()
                item = await honouring_cancel(self._receive())
                batch = [Event.from_wire(line) for line in item["events"]] if item else []
                if not batch or batch[0].id > self.sent + 1:  # silence or a gap: the list has it all
                    batch = await honouring_cancel(eventlog.shared_read(message_id))
                    if not batch:  # the list expired: the row knows the end
                        row = await db_sync_to_async(_row)(message_id)
                        if row is not None and row.status not in IN_FLIGHT_STATUSES:
                            batch = final_events_from_row(row, after=self.sent)
                failures = 0
            except Exception:
                failures += 1
                logger.warning("stream of %s: Redis or the channel layer failed", message_id, exc_info=True)
                if failures >= MAX_CONSECUTIVE_FAILURES:
                    return  # the client resumes with Last-Event-ID
                await asyncio.sleep(min(1.0, 0.1 * failures))
                batch = []
            if not batch and self._keepalive_due():
                yield None

    async def _receive(self) -> dict | None:
        """The next announcement for this listener's reply, or None after a quiet second."""
        deadline = time.monotonic() + IDLE_RECHECK_SECONDS
        # The channel is looked at each time: a waiter cancelled as the listener closed may still
        # run once (``wait_for`` can lose a cancel that arrives with a message) and must not read
        # from a closed channel.
        while self.channel is not None and (left := deadline - time.monotonic()) > 0:
            try:
                item = await asyncio.wait_for(self.layer.receive(self.channel), left)
            except TimeoutError:
                return None
            if self.message is None or item.get("message_id") == str(self.message.id):
                return item
        return None


async def listen(
    *, conversation_id, last_event_id: int | None = None, message=_NOT_LOADED
) -> AsyncIterator[Event | None]:
    listener = Listener(conversation_id=conversation_id, last_event_id=last_event_id, message=message)
    await listener.open()
    async for event in listener.events():
        yield event


class ReplyProgress:
    """What a client has of a reply as its events arrive: the text so far, then how it ended (the
    ``error`` event's payload, if any, and the ``message.done`` payload). Both APIs that wait for a
    whole reply (``?wait=true``, the OpenAI-compatible ``/v1``) read replies through it."""

    def __init__(self):
        self.text = ""
        self.sources: list[dict] = []
        self.tool_calls: list[dict] = []
        self.logprobs: list[dict] | None = None
        self.error = None
        self.done = None

    def take(self, event: Event) -> str:
        """Follow one event; return the text it adds (a snapshot replaces, so only its new end)."""
        if event.name is EventName.DELTA:
            self.text += event.data.text
            return event.data.text
        if event.name is EventName.SNAPSHOT:
            self.sources = event.data.sources or self.sources
            new = event.data.text[len(self.text) :] if event.data.text.startswith(self.text) else ""
            self.text = event.data.text
            return new
        if event.name is EventName.SOURCES:
            self.sources = event.data.sources
        elif event.name is EventName.TOOL_CALLS:
            self.tool_calls = event.data.tool_calls
        elif event.name is EventName.LOGPROBS:
            self.logprobs = event.data.content
        elif event.name is EventName.ERROR:
            self.error = event.data
        elif event.name is EventName.DONE:
            self.done = event.data
        return ""


async def await_reply(follower: Listener) -> ReplyProgress:
    """Follow an opened listener to the end of its reply (``progress.done`` stays None only if the
    stream ended without one: a lost log whose client should resume)."""
    progress = ReplyProgress()
    async for event in follower.events():
        if event is not None:
            progress.take(event)
            if progress.done is not None:
                break
    return progress


def reply_wait(message: Message, *, timeout: float) -> ReplyProgress:
    """From sync code (a DRF view): wait for the reply ``message``, generated as every reply is (a
    task of the server's loop, or of the background loop without a server), to end; at most
    ``timeout`` seconds (then ``progress.done`` is None and the reply goes on)."""
    from asgiref.sync import async_to_sync

    async def follow() -> ReplyProgress:
        follower = Listener(conversation_id=message.conversation_id, message=message)
        await follower.open()
        try:
            return await asyncio.wait_for(await_reply(follower), timeout)
        except TimeoutError:
            return ReplyProgress()

    return async_to_sync(follow)()
