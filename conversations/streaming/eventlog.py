"""The append-only event log of each reply.

Two places hold it:

- **This process** (``ReplyLog``, always): the generator appends events to a list; listeners in
  this process read the list and are woken by the append itself: no copy, no queue, no lock.
  Finished logs are kept ``LOCAL_KEEP_SECONDS``, then the saved row stands in for them.
- **Redis** (only with ``REDIS_URL``, when several processes serve): every event is also pushed to
  a Redis list (``RPUSH``: cost per event, not per reply) and, when a listener in another process
  watches the conversation, announced on its Channels layer group, so that listener gets it live
  and can replay what it missed. One relay task per loop sends, in one pipeline, whatever every
  reply appended while the previous pipeline was in flight (in order per reply).

Appending is synchronous and cheap; only the relay awaits Redis.
"""

import asyncio
import collections
import contextvars
import logging
import re
import time
import weakref

from channels.layers import get_channel_layer
from django.conf import settings

from .events import Event, EventName, Snapshot

logger = logging.getLogger(__name__)

# A finished log stays for clients resuming soon after; then the saved row answers them (a
# snapshot and message.done). Short, because a busy process finishes dozens of replies a second.
LOCAL_KEEP_SECONDS = 120.0
SHARED_TTL_SECONDS = 6 * 3600
# A listener in another process refreshes its watch well before this runs out.
WATCH_TTL_SECONDS = 60
WATCH_REFRESH_SECONDS = 20
REDIS_MAX_CONNECTIONS = 32
REDIS_WAIT_SECONDS = 10
GROUP_EVENT_TYPE = "reply.events"


def group_name(conversation_id) -> str:
    # Channels allows only [a-zA-Z0-9-_.] in group names.
    return re.sub(r"[^a-zA-Z0-9\-_.]", "", f"conv.{conversation_id}")[:99]


def shared() -> bool:
    """True when several processes may serve: events then also go through Redis."""
    return bool(settings.REDIS_URL)


def _wake(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


def _wake_all(waiters: list[asyncio.Future]) -> None:
    current = asyncio._get_running_loop()
    for future in waiters:
        loop = future.get_loop()
        if loop is current:
            _wake(future)
        else:  # a listener on another thread's loop (tests, management commands)
            loop.call_soon_threadsafe(_wake, future)


async def _wait(waiters: list[asyncio.Future], timeout: float) -> None:
    future = asyncio.get_running_loop().create_future()
    waiters.append(future)
    try:
        # Not ``wait_for``: on Python 3.11 it returns normally when a cancel arrives as the future
        # is woken, and a stream whose client left would follow its reply to the end.
        await asyncio.wait((future,), timeout=timeout)
    finally:
        future.cancel()  # a timeout or a cancel: nobody wakes it any more


class ReplyLog:
    """The events of one reply in this process, in id order, appended and never rewritten."""

    __slots__ = ("message_id", "conversation_id", "events", "finished", "_waiters", "_shared", "__weakref__")

    def __init__(self, *, message_id: str, conversation_id: str, events: list[Event] | None = None):
        self.message_id = message_id
        self.conversation_id = conversation_id
        self.events: list[Event] = events or []
        self.finished = bool(self.events) and self.events[-1].is_terminal
        self._waiters: list[asyncio.Future] = []
        self._shared = shared()

    @property
    def last_id(self) -> int:
        return self.events[-1].id if self.events else 0

    def append(self, event: Event) -> None:
        self.events.append(event)
        if event.is_terminal:
            self.finished = True
            _local.finished(self.message_id)
        if self._shared:
            _relay().push(self, event)
        if self._waiters:
            waiters, self._waiters = self._waiters, []
            _wake_all(waiters)

    def snapshot(self) -> Event:
        """For a late joiner: the text as of the last text event, then ``after(snapshot.id)``."""
        return snapshot_of(self.events, self.message_id)

    def wake(self) -> None:
        """Wake every listener waiting on this log (they look again and find what changed)."""
        if self._waiters:
            waiters, self._waiters = self._waiters, []
            _wake_all(waiters)

    async def wait(self, timeout: float) -> None:
        """Return when an event is appended (or after ``timeout``)."""
        await _wait(self._waiters, timeout)

    async def drain(self) -> None:
        """Wait until every event has reached Redis (no-op without it)."""
        if self._shared:
            await _relay().drain(self.message_id)


def snapshot_of(events: list[Event], message_id: str) -> Event:
    kinds = (
        EventName.START,
        EventName.SOURCES,
        EventName.DELTA,
        EventName.SNAPSHOT,
        EventName.TOOL_CALL,
        EventName.TOOL_RESULT,
        EventName.NOTICE,
    )
    shown = [e for e in events if e.name in kinds]
    seq = shown[-1].id if shown else 0
    parts: list[str] = []
    sources: list[dict] = []
    calls: dict[str, dict] = {}
    notices: list[dict] = []
    for event in shown:
        data = event.data
        if event.name is EventName.SNAPSHOT:
            parts = [data.text]
            sources = data.sources or sources
            calls = {call["id"]: call for call in data.tool_calls} or calls
            notices = data.notices or notices
        elif event.name is EventName.DELTA:
            parts.append(data.text)
        elif event.name is EventName.SOURCES:
            sources = data.sources
        elif event.name is EventName.TOOL_CALL:
            calls[data.id] = tool_call_entry(data)
        elif event.name is EventName.TOOL_RESULT and data.id in calls:
            calls[data.id] = tool_result_entry(calls[data.id], data)
        elif event.name is EventName.NOTICE:
            notices.append({"code": data.code, "message": data.message})
    snapshot = Snapshot(message_id, "".join(parts), seq, sources, list(calls.values()), notices)
    return Event(seq, EventName.SNAPSHOT, snapshot)


def tool_call_entry(call) -> dict:
    """A ``tool.call`` event as the entry a snapshot shows (``Message.tool_calls``' reader's fields)."""
    return {
        "id": call.id,
        "server": call.server,
        "name": call.name,
        "arguments": call.arguments,
        "offset": call.offset,
        "status": "running",
        "result": None,
        "error": "",
        "truncated": False,
        "duration_ms": None,
    }


def tool_result_entry(entry: dict, result) -> dict:
    return {
        **entry,
        "status": result.status,
        "result": result.result,
        "error": result.error,
        "truncated": result.truncated,
        "duration_ms": result.duration_ms,
    }


def text_of(events: list[Event]) -> str:
    return snapshot_of(events, "").data.text


class _LocalLogs:
    """The logs of this process, by message id; finished ones expire after ``LOCAL_KEEP_SECONDS``."""

    def __init__(self):
        self._logs: dict[str, ReplyLog] = {}
        self._expiry: collections.deque[tuple[float, str]] = collections.deque()
        self._creation_waiters: dict[str, list[asyncio.Future]] = {}

    def create(self, *, message_id, conversation_id, events: list[Event] | None = None) -> ReplyLog:
        self._prune()
        log = ReplyLog(message_id=str(message_id), conversation_id=str(conversation_id), events=events)
        self._logs[log.message_id] = log
        if log.finished:
            self.finished(log.message_id)
        waiters = self._creation_waiters.pop(log.message_id, None)
        if waiters:
            _wake_all(waiters)
        return log

    async def wait_created(self, message_id, timeout: float) -> "ReplyLog | None":
        """The log of ``message_id`` once this process creates it (None after ``timeout``)."""
        message_id = str(message_id)
        if message_id not in self._logs:
            await _wait(self._creation_waiters.setdefault(message_id, []), timeout)
            waiters = self._creation_waiters.get(message_id)
            if waiters is not None:
                waiters[:] = [w for w in waiters if not w.done()]
                if not waiters:
                    del self._creation_waiters[message_id]
        return self._logs.get(message_id)

    def get(self, message_id) -> ReplyLog | None:
        return self._logs.get(str(message_id))

    def finished(self, message_id: str) -> None:
        self._expiry.append((time.monotonic() + LOCAL_KEEP_SECONDS, message_id))

    def _prune(self) -> None:
        now = time.monotonic()
        while self._expiry and self._expiry[0][0] <= now:
            _, message_id = self._expiry.popleft()
            log = self._logs.get(message_id)
            if log is not None and log.finished:
                del self._logs[message_id]

    def clear(self) -> None:
        self._logs.clear()
        self._expiry.clear()


_local = _LocalLogs()
local_get = _local.get
local_create = _local.create
local_clear = _local.clear
local_wait_created = _local.wait_created


# --- the shared log (Redis) --------------------------------------------------------------------

# One client per event loop: a redis.asyncio connection pool cannot cross loops.
_redis_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, object]" = weakref.WeakKeyDictionary()
# Bytes pushed to the shared log by this process (tests assert it grows linearly with a reply).
shared_bytes_written = 0


def _redis():
    loop = asyncio.get_running_loop()
    client = _redis_clients.get(loop)
    if client is None:
        import redis.asyncio

        # A blocking pool: replies past its size wait for a connection instead of failing (a relay
        # holds one only for the length of a pipeline).
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            settings.REDIS_URL, max_connections=REDIS_MAX_CONNECTIONS, timeout=REDIS_WAIT_SECONDS
        )
        client = _redis_clients[loop] = redis.asyncio.Redis(connection_pool=pool)
    return client


def shared_key(message_id) -> str:
    return f"{settings.REDIS_PREFIX}:log:{message_id}"


def watch_key(conversation_id) -> str:
    return f"{settings.REDIS_PREFIX}:watch:{conversation_id}"


async def shared_watch(conversation_id) -> None:
    """Tell generators in other processes that someone here follows this conversation's group.

    Set *after* joining the group and *before* reading the list: a generator that sees no
    watcher pushed its events before this, so the listener's read finds them.
    """
    await _redis().set(watch_key(conversation_id), "1", ex=WATCH_TTL_SECONDS)


async def shared_append(message_id, conversation_id, events: list[Event]) -> None:
    """Push ``events`` to the Redis list of the reply, then announce them to other processes."""
    await shared_append_many({str(message_id): (str(conversation_id), events)})


async def shared_append_many(batch: dict[str, tuple[str, list[Event]]]) -> None:
    """For each reply of ``batch`` (``message_id: (conversation_id, events)``), push its events to
    its Redis list, all in one round trip, then announce them on its conversation's group, only if
    a listener in another process watches (announcing costs more than pushing)."""
    global shared_bytes_written
    wires = {message_id: [event.wire() for event in events] for message_id, (_, events) in batch.items()}
    shared_bytes_written += sum(len(line) for lines in wires.values() for line in lines)
    async with _redis().pipeline(transaction=False) as pipe:
        for message_id, (conversation_id, _) in batch.items():
            pipe.rpush(shared_key(message_id), *wires[message_id])
            pipe.expire(shared_key(message_id), SHARED_TTL_SECONDS)
            pipe.exists(watch_key(conversation_id))
        results = await pipe.execute()
    layer = get_channel_layer()
    if layer is None:
        return
    for index, (message_id, (conversation_id, _)) in enumerate(batch.items()):
        if results[3 * index + 2]:
            message = {"type": GROUP_EVENT_TYPE, "message_id": message_id, "events": wires[message_id]}
            await layer.group_send(group_name(conversation_id), message)


FORGET_AFTER_SECONDS = 60


async def shared_forget_soon(message_id) -> None:
    """Shorten the shared log of a reply whose text must not be kept (an API request's without
    CHAT_API_KEEP_CONTENT): a minute for a listener in another process to finish reading it."""
    if shared():
        await _redis().expire(shared_key(message_id), FORGET_AFTER_SECONDS)


async def shared_read(message_id) -> list[Event]:
    return [Event.from_wire(raw) for raw in await _redis().lrange(shared_key(message_id), 0, -1)]


class _Relay:
    """Sends the events of every reply of this loop to Redis, in order per reply.

    One pipeline carries everything that piled up while the previous one was in flight, whatever
    the reply: at 20 tokens/s nothing coalesces within a reply, but hundreds of replies share
    each round trip.
    """

    def __init__(self):
        self.pending: dict[str, tuple[str, list[Event]]] = {}
        self.sending: set[str] = set()
        self.task: asyncio.Task | None = None
        self.sent = asyncio.Event()

    def push(self, log: ReplyLog, event: Event) -> None:
        self.pending.setdefault(log.message_id, (log.conversation_id, []))[1].append(event)
        if self.task is None or self.task.done():
            # From an empty context: this task outlives the call that happened to start it (a
            # ?wait=true request, a sync view), and must not carry that request's id or executor
            # (see the reply supervisor in generation/scheduling.py).
            self.task = asyncio.get_running_loop().create_task(
                self._run(), name="shared-log-relay", context=contextvars.Context()
            )

    async def _run(self) -> None:
        failures = 0
        while self.pending:
            batch, self.pending = self.pending, {}
            self.sending = set(batch)
            try:
                await shared_append_many(batch)
                failures = 0
            except Exception:
                # Listeners elsewhere fall back to the row; the replies themselves go on here.
                failures += 1
                logger.warning("could not relay the events of %d replies", len(batch), exc_info=True)
                if failures < 3:
                    for message_id, (conversation_id, events) in batch.items():
                        later = self.pending.pop(message_id, (conversation_id, []))[1]
                        self.pending[message_id] = (conversation_id, events + later)
                    await asyncio.sleep(0.1 * failures)
            finally:
                self.sending = set()
                self.sent.set()
                self.sent = asyncio.Event()

    async def drain(self, message_id: str) -> None:
        while message_id in self.pending or message_id in self.sending:
            if self.task is None or self.task.done():
                return
            await self.sent.wait()


_relays: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Relay]" = weakref.WeakKeyDictionary()


def _relay() -> _Relay:
    loop = asyncio.get_running_loop()
    relay = _relays.get(loop)
    if relay is None:
        relay = _relays[loop] = _Relay()
    return relay
