"""The event log of a reply, shared by the generator and every listener (SSE, WebSocket).

Per message the cache holds ``{seq, text, status, model, events}``; a delta event stores only the
slice ``[start, end]`` of ``text`` it added, so the log costs about the size of the reply. The
generator writes the state BEFORE announcing the event on the channel layer group
``conv.<conversation id>``. A listener subscribes to the group first, then reads the state and
replays what its client lacks, then forwards live events with a higher seq. A gap in the live
events (a full or lossy channel) is filled from the state, so a client sees each event once, in
order. The cache is per process with locmem and shared with Redis, like the channel layer.
"""

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

from config.db import db_sync_to_async

from .models import IN_FLIGHT_STATUSES, Message, MessageStatus, Role

logger = logging.getLogger(__name__)

STATE_TTL_SECONDS = 6 * 3600
KEEPALIVE_SECONDS = 15.0
# How long a listener waits for a live event before looking at the state itself.
IDLE_RECHECK_SECONDS = 1.0
# Consecutive channel-layer/cache failures after which a stream ends (the client then resumes).
MAX_CONSECUTIVE_FAILURES = 5
EVENT_TYPE = "stream.event"
TERMINAL_EVENT = "message.done"


def state_key(message_id) -> str:
    return f"stream:{message_id}"


def stop_key(message_id) -> str:
    return f"stop:{message_id}"


def group_name(conversation_id) -> str:
    # Channels allows only [a-zA-Z0-9-_.] in group names.
    return re.sub(r"[^a-zA-Z0-9\-_.]", "", f"conv.{conversation_id}")[:99]


async def cache_get(key):
    if isinstance(cache, LocMemCache):
        return cache.get(key)
    return await sync_to_async(cache.get, thread_sensitive=False)(key)


async def cache_set(key, value, timeout=STATE_TTL_SECONDS) -> None:
    if isinstance(cache, LocMemCache):
        cache.set(key, value, timeout)
    else:
        await sync_to_async(cache.set, thread_sensitive=False)(key, value, timeout)


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    id: int
    data: dict


def render(state: dict, entry: list) -> Event:
    """An event of the log as clients see it."""
    seq, name, data = entry
    if name == "delta":
        start, end = data
        data = {"message_id": state["message_id"], "text": state["text"][start:end]}
    return Event(name, seq, data)


def new_state(*, message_id, conversation_id, model: str) -> dict:
    return {
        "message_id": str(message_id),
        "conversation_id": str(conversation_id),
        "model": model,
        "seq": 0,
        "text": "",
        "status": MessageStatus.STREAMING,
        "events": [],
    }


def append_event(state: dict, name: str, data: dict) -> Event:
    """Add an event to the state (delta data: ``{"text": ...}``) and return it rendered."""
    state["seq"] += 1
    if name == "delta":
        start = len(state["text"])
        state["text"] += data["text"]
        entry = [state["seq"], name, [start, len(state["text"])]]
    else:
        entry = [state["seq"], name, data]
        if name == TERMINAL_EVENT:
            state["status"] = data["status"]
    state["events"].append(entry)
    return render(state, entry)


async def publish(state: dict, event: Event) -> None:
    """Save the state, then announce the event. A lost announcement only delays listeners."""
    try:
        await cache_set(state_key(state["message_id"]), state)
    except Exception:  # the reply is saved to the database regardless; listeners fall back to it
        logger.warning("could not save the stream state of %s", state["message_id"], exc_info=True)
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(
            group_name(state["conversation_id"]),
            {
                "type": EVENT_TYPE,
                "message_id": state["message_id"],
                "event": event.name,
                "id": event.id,
                "data": event.data,
            },
        )
    except Exception:  # listeners recover from the state; the reply must go on
        logger.warning("could not publish %s of %s", event.name, state["message_id"], exc_info=True)


def final_events_from_row(message: Message) -> list[Event]:
    """A finished reply whose event log is gone: its text as a snapshot, then its final state."""
    done_seq = max(message.stream_seq, 2)
    snapshot = {"message_id": str(message.id), "text": message.content, "seq": done_seq - 1}
    return [Event("snapshot", done_seq - 1, snapshot), Event(TERMINAL_EVENT, done_seq, done_data(message))]


def done_data(message: Message) -> dict:
    return {
        "message_id": str(message.id),
        "status": message.status,
        "usage": {
            "prompt_tokens": message.prompt_tokens or 0,
            "completion_tokens": message.completion_tokens or 0,
        },
    }


def _last_assistant(conversation_id):
    return (
        Message.objects.filter(conversation_id=conversation_id, role=Role.ASSISTANT)
        .order_by("-created_at", "-id")
        .first()
    )


def _snapshot(state: dict, last_sent: int | None) -> tuple[list[Event], int]:
    """What a client needs from the state: the events after ``last_sent``, or (a late joiner, with
    ``last_sent=None``) a snapshot of the text so far followed by the events after it."""
    if last_sent is not None:
        return [render(state, e) for e in state["events"] if e[0] > last_sent], max(last_sent, state["seq"])
    text_events = [e for e in state["events"] if e[1] in ("message.start", "delta")]
    snap_seq = text_events[-1][0] if text_events else 0
    # The text as of snap_seq: everything except deltas logged after it.
    end = max((e[2][1] for e in text_events if e[1] == "delta"), default=0)
    events = [
        Event("snapshot", snap_seq, {"message_id": state["message_id"], "text": state["text"][:end], "seq": snap_seq})
    ]
    events += [render(state, e) for e in state["events"] if e[0] > snap_seq]
    return events, state["seq"]


class Listener:
    """Events of the conversation's current (or last) reply for one client.

    ``await open()`` subscribes and reads where the reply stands (call it before answering the
    client, so nothing published after the answer can be missed); then iterate ``events()``, which
    yields ``None`` as a keep-alive and ends after the reply's ``message.done``.
    """

    def __init__(self, *, conversation_id, last_event_id: int | None = None):
        self.conversation_id = conversation_id
        self.sent = last_event_id
        self.message_id: str | None = None
        self.initial: list[Event] = []
        self.finished = True
        self.layer = None
        self.channel = None

    async def open(self) -> None:
        self.layer = get_channel_layer()
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(group_name(self.conversation_id), self.channel)
        message = await db_sync_to_async(_last_assistant)(self.conversation_id)
        if message is None:
            return
        self.message_id = message_id = str(message.id)
        state = await cache_get(state_key(message_id))
        if state is not None:
            self.initial, self.sent = _snapshot(state, self.sent)
            self.finished = state["status"] not in IN_FLIGHT_STATUSES
            return
        if message.status not in IN_FLIGHT_STATUSES:
            self.initial = [e for e in final_events_from_row(message) if self.sent is None or e.id > self.sent]
            return
        self.finished = False
        if message.status == MessageStatus.STREAMING and self.sent is None:
            # In flight but its log is gone (evicted): the last checkpoint is the best snapshot.
            self.sent = message.stream_seq
            snapshot = {"message_id": message_id, "text": message.content, "seq": self.sent}
            self.initial = [Event("snapshot", self.sent, snapshot)]

    async def close(self) -> None:
        if self.channel is not None:
            channel, self.channel = self.channel, None
            await self.layer.group_discard(group_name(self.conversation_id), channel)

    async def events(self) -> AsyncIterator[Event | None]:
        try:
            for event in self.initial:
                yield event
            if self.finished:
                return
            async for event in self._live():
                yield event
        finally:
            await self.close()

    async def _live(self) -> AsyncIterator[Event | None]:
        message_id = self.message_id
        sent = self.sent or 0
        last_output = time.monotonic()
        failures = 0
        while True:
            try:
                item = await asyncio.wait_for(self.layer.receive(self.channel), IDLE_RECHECK_SECONDS)
                failures = 0
            except TimeoutError:
                item = None
            except Exception:
                # The channel layer (Redis) failed or timed out: fall back to the state below. If it
                # keeps failing, end the stream cleanly; the client resumes with Last-Event-ID.
                failures += 1
                logger.warning("stream of %s: channel layer receive failed", message_id, exc_info=True)
                if failures >= MAX_CONSECUTIVE_FAILURES:
                    return
                await asyncio.sleep(min(1.0, 0.1 * failures))
                item = None
            if item is not None and item.get("message_id") != message_id:
                continue
            if item is not None and item["id"] == sent + 1:
                events = [Event(item["event"], item["id"], item["data"])]
            elif item is not None and item["id"] <= sent:
                events = []
            else:
                # A gap, or silence: the state knows everything that was published.
                try:
                    state = await cache_get(state_key(message_id))
                except Exception:
                    failures += 1
                    logger.warning("stream of %s: reading the stream state failed", message_id, exc_info=True)
                    if failures >= MAX_CONSECUTIVE_FAILURES:
                        return
                    continue
                if state is not None:
                    events = [render(state, e) for e in state["events"] if e[0] > sent]
                else:
                    events = []
                    row = await db_sync_to_async(Message.objects.filter(pk=message_id).first)()
                    if row is None or row.status not in IN_FLIGHT_STATUSES:
                        events = [e for e in final_events_from_row(row) if e.id > sent] if row else []
                        if not events:
                            return
            for event in events:
                sent = event.id
                last_output = time.monotonic()
                yield event
                if event.name == TERMINAL_EVENT:
                    return
            if not events and time.monotonic() - last_output >= KEEPALIVE_SECONDS:
                last_output = time.monotonic()
                yield None


async def listen(*, conversation_id, last_event_id: int | None = None) -> AsyncIterator[Event | None]:
    listener = Listener(conversation_id=conversation_id, last_event_id=last_event_id)
    await listener.open()
    async for event in listener.events():
        yield event
