"""Generation engine: a reply is produced by a task that does not belong to any HTTP request.

The task runs on the event loop of the server process that received the request (so in-process
listeners share its loop and channel layer); without a server loop (management commands, the sync
test client) it runs on one background thread with its own loop. It claims the pending assistant
message, streams the provider's deltas, coalesces them before publishing (see ``streaming``),
checkpoints the row at most once per ``CHECKPOINT_SECONDS`` and finalises it once, so the number of
writes per reply does not depend on its length.
"""

import asyncio
import contextvars
import logging
import os
import threading
import time
from datetime import timedelta

from asgiref.sync import SyncToAsync, async_to_sync
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from config.db import background_db_sync_to_async
from config.logging import request_id_var

from . import streaming
from .llm import Delta, ProviderError, get_provider
from .llm.context import build_messages, context_items_text
from .models import IN_FLIGHT_STATUSES, LLMModel, Message, MessageStatus, Role
from .services import conversation_autotitle

logger = logging.getLogger(__name__)

HISTORY_MAX_MESSAGES = 200
# While nothing is buffered the loop still wakes this often to honour a stop request.
STOP_POLL_SECONDS = 0.2
STOP_WAIT_SECONDS = 2.0

_tasks: set = set()
_server_loop: asyncio.AbstractEventLoop | None = None
_background_loop: asyncio.AbstractEventLoop | None = None
_background_lock = threading.Lock()


# --- where the task runs ----------------------------------------------------------------------


def remember_server_loop(loop: asyncio.AbstractEventLoop | None = None) -> None:
    """Called from async entry points (stream view, consumer) so sync views can schedule onto it."""
    global _server_loop
    _server_loop = loop or asyncio.get_running_loop()


def _usable(loop) -> bool:
    return loop is not None and loop.is_running() and not loop.is_closed()


def _get_background_loop() -> asyncio.AbstractEventLoop:
    global _background_loop
    with _background_lock:
        if not _usable(_background_loop):
            loop = asyncio.new_event_loop()
            started = threading.Event()

            def run():
                asyncio.set_event_loop(loop)
                loop.call_soon(started.set)
                loop.run_forever()

            threading.Thread(target=run, name="generation-loop", daemon=True).start()
            started.wait()
            _background_loop = loop
        return _background_loop


def _target_loop() -> asyncio.AbstractEventLoop:
    # A sync view under ASGI runs in a thread that asgiref tags with the server's loop.
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) == os.getpid():
        loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
        if _usable(loop):
            remember_server_loop(loop)
            return loop
    if _usable(_server_loop):
        return _server_loop
    return _get_background_loop()


def _spawn(message_id) -> None:
    task = asyncio.get_running_loop().create_task(_generate(message_id), name=f"generate-{message_id}")
    _tasks.add(task)
    task.add_done_callback(_task_done)


def _task_done(task: asyncio.Task) -> None:
    _tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("generation task %s failed", task.get_name(), exc_info=task.exception())


def start_generation(*, message_id) -> None:
    """Schedule the reply ``message_id`` (status pending). Returns at once."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    # The task must not inherit the request's context: asgiref's per-request sync thread would
    # then run its database calls, in a thread that dies with the request and leaks its connection.
    # A fresh context sends them to the process-wide sync thread and its one connection; only the
    # request id is carried over, for the log lines.
    context = contextvars.Context()
    context.run(request_id_var.set, request_id_var.get())
    if running is not None:
        context.run(_spawn, message_id)
        return
    _target_loop().call_soon_threadsafe(_spawn, message_id, context=context)


def generate_now(*, message_id) -> None:
    """Generate the reply in the calling (sync) thread and return when it is saved.

    Under ASGI the coroutine runs on the server loop (so live listeners see it) while its database
    calls come back to this thread; elsewhere it gets a private loop.
    """
    async_to_sync(_generate)(message_id)


# --- stop and reap ----------------------------------------------------------------------------


def request_stop(*, message_id) -> bool:
    """Ask whichever process generates ``message_id`` to stop. True if it was in flight.

    The flag lives in the cache (shared through Redis across processes); the generator checks it at
    every flush. A reply nobody has started yet is stopped here directly.
    """
    cache.set(streaming.stop_key(message_id), "1", streaming.STATE_TTL_SECONDS)
    row = Message.objects.filter(pk=message_id).values("status").first()
    if row is None or row["status"] not in IN_FLIGHT_STATUSES:
        return False
    now = timezone.now()
    if Message.objects.filter(pk=message_id, status=MessageStatus.PENDING).update(
        status=MessageStatus.STOPPED, finished_at=now, heartbeat_at=now, updated_at=now
    ):
        _publish_final_sync(message_id)
        return True
    try:
        asyncio.get_running_loop()
        return True  # on an event loop: never block it waiting
    except RuntimeError:
        pass
    # Give the generator a moment, so the caller can report the final state.
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    while time.monotonic() < deadline:
        if not Message.objects.filter(pk=message_id, status__in=IN_FLIGHT_STATUSES).exists():
            break
        time.sleep(0.05)
    else:
        generation_reap_stale(message_ids=[message_id])
    return True


async def reap_periodically() -> None:
    """Reap stale replies of every conversation, forever (started once per server process).

    Replies whose worker died become ``interrupted`` even if nobody opens their stream.
    """
    interval = max(0.05, settings.CHAT["STALE_AFTER_SECONDS"] / 2)
    while True:
        await asyncio.sleep(interval)
        try:
            await background_db_sync_to_async(generation_reap_stale)()
        except Exception:  # a database hiccup must not end the loop
            logger.warning("periodic reaping failed", exc_info=True)


def generation_reap_stale(*, conversation_id=None, message_ids=None, stale_after: float | None = None) -> int:
    """Mark replies whose worker stopped beating ``interrupted``, keeping the text they had.

    Returns how many were reaped. Safe to run from any process at any time.
    """
    stale_after = settings.CHAT["STALE_AFTER_SECONDS"] if stale_after is None else stale_after
    cutoff = timezone.now() - timedelta(seconds=stale_after)
    qs = Message.objects.filter(status__in=IN_FLIGHT_STATUSES).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    if conversation_id is not None:
        qs = qs.filter(conversation_id=conversation_id)
    if message_ids is not None:
        qs = qs.filter(pk__in=message_ids)
    reaped = 0
    for message in qs.only("id", "content", "status", "heartbeat_at", "created_at"):
        # The event log may hold text published after the last checkpoint: keep it.
        state = cache.get(streaming.state_key(message.id))
        content = message.content
        if state and state["text"].startswith(content):
            content = state["text"]
        now = timezone.now()
        updated = Message.objects.filter(
            pk=message.pk, status=message.status, heartbeat_at=message.heartbeat_at
        ).update(
            status=MessageStatus.INTERRUPTED,
            content=content,
            error_code="interrupted",
            error="The worker generating this reply stopped before it finished.",
            finished_at=now,
            updated_at=now,
        )
        if updated:
            reaped += 1
            _publish_final_sync(message.pk)
    return reaped


def _publish_final_sync(message_id) -> None:
    try:
        async_to_sync(_publish_final)(message_id)
    except Exception:
        logger.warning("could not publish the final state of %s", message_id, exc_info=True)


async def _publish_final(message_id) -> None:
    """Announce a reply finished outside its generator (stopped before start, reaped)."""
    message = await background_db_sync_to_async(Message.objects.select_related("model").get)(pk=message_id)
    state = await streaming.cache_get(streaming.state_key(message_id))
    if state is None:
        state = streaming.new_state(
            message_id=message.id,
            conversation_id=message.conversation_id,
            model=message.model.slug if message.model else "",
        )
        state["seq"] = max(0, message.stream_seq - 1)
        if message.content:
            streaming.append_event(state, "delta", {"text": message.content})
    elif len(message.content) > len(state["text"]) and message.content.startswith(state["text"]):
        streaming.append_event(state, "delta", {"text": message.content[len(state["text"]) :]})
    if message.error_code:
        event = streaming.append_event(
            state, "error", {"message_id": str(message.id), "code": message.error_code, "message": message.error}
        )
        await streaming.publish(state, event)
    event = streaming.append_event(state, streaming.TERMINAL_EVENT, streaming.done_data(message))
    await streaming.publish(state, event)


# --- the generation ---------------------------------------------------------------------------


def _claim(message_id):
    """Take a pending reply (one worker wins) and load what generating it needs."""
    now = timezone.now()
    if not Message.objects.filter(pk=message_id, status=MessageStatus.PENDING).update(
        status=MessageStatus.STREAMING, heartbeat_at=now, stream_seq=1, updated_at=now
    ):
        return None
    message = Message.objects.select_related("conversation", "conversation__model", "model").get(pk=message_id)
    conversation = message.conversation
    model = message.model or conversation.model or LLMModel.objects.filter(is_default=True, enabled=True).first()
    history = list(
        Message.objects.filter(
            conversation_id=conversation.pk,
            role__in=(Role.USER, Role.ASSISTANT),
            created_at__lt=message.created_at,
        )
        .exclude(content="")
        .order_by("-created_at", "-id")
        .values("role", "content")[:HISTORY_MAX_MESSAGES]
    )
    history.reverse()
    context = context_items_text(conversation.context_items.all().only("title", "content", "url"))
    return message, conversation, model, history, context


def _checkpoint(message_id, *, content: str, seq: int) -> None:
    now = timezone.now()
    Message.objects.filter(pk=message_id).update(content=content, stream_seq=seq, heartbeat_at=now, updated_at=now)


def _finalise(message_id, **fields) -> None:
    now = timezone.now()
    Message.objects.filter(pk=message_id).update(finished_at=now, heartbeat_at=now, updated_at=now, **fields)


_END = object()


async def _produce(provider, messages, max_tokens, temperature, queue: asyncio.Queue) -> None:
    try:
        async for delta in provider.stream(messages, max_tokens=max_tokens, temperature=temperature):
            await queue.put(delta)
        await queue.put(_END)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        await queue.put(exc)


async def _stop_requested(message_id) -> bool:
    return bool(await streaming.cache_get(streaming.stop_key(message_id)))


async def _generate(message_id) -> None:
    claimed = await background_db_sync_to_async(_claim)(message_id)
    if claimed is None:
        return
    message, conversation, model, history, context = claimed
    chat = settings.CHAT
    coalesce, checkpoint_every = chat["DELTA_COALESCE_SECONDS"], chat["CHECKPOINT_SECONDS"]
    state = streaming.new_state(
        message_id=message.id, conversation_id=conversation.pk, model=model.slug if model else ""
    )
    await streaming.publish(
        state, streaming.append_event(state, "message.start", {"message_id": str(message.id), "model": state["model"]})
    )

    started = time.monotonic()
    first_token_at: float | None = None
    status, error = MessageStatus.COMPLETE, None
    usage = None
    buffer: list[str] = []
    producer = None
    last_flush = last_checkpoint = last_stop_check = started
    checkpointed_seq = state["seq"]

    async def flush() -> None:
        nonlocal last_flush
        last_flush = time.monotonic()
        if buffer:
            text = "".join(buffer)
            buffer.clear()
            await streaming.publish(state, streaming.append_event(state, "delta", {"text": text}))

    try:
        if model is None:
            raise ProviderError("No model is configured for this conversation.", code="no_model")
        provider = get_provider(model)
        # Counting tokens may load the local model: keep it off the event loop.
        messages, max_tokens = await asyncio.to_thread(
            build_messages,
            system_prompt=conversation.system_prompt,
            context_text=context,
            history=history,
            context_window=model.context_window,
            max_output_tokens=model.max_output_tokens,
            count=provider.count_tokens,
        )
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        producer = asyncio.create_task(_produce(provider, messages, max_tokens, model.temperature, queue))
        while True:
            now = time.monotonic()
            if buffer:
                timeout = max(0.0, coalesce - (now - last_flush))
            else:
                timeout = min(STOP_POLL_SECONDS, max(0.0, checkpoint_every - (now - last_checkpoint)))
            try:
                # A ready item needs no timer: wait_for costs a task per call, too much per token.
                item = queue.get_nowait() if not queue.empty() else await asyncio.wait_for(queue.get(), timeout)
            except TimeoutError:
                item = None
            if item is _END:
                break
            if isinstance(item, Exception):
                raise item
            if isinstance(item, Delta):
                if item.text:
                    if first_token_at is None:
                        first_token_at = time.monotonic()
                    buffer.append(item.text)
                if item.usage is not None:
                    usage = item.usage
            now = time.monotonic()
            if buffer and now - last_flush >= coalesce:
                await flush()
            if now - last_stop_check >= STOP_POLL_SECONDS or not buffer:
                last_stop_check = now
                if await _stop_requested(message.id):
                    status = MessageStatus.STOPPED
                    break
            if now - last_checkpoint >= checkpoint_every:
                # Also a heartbeat while waiting for the first token.
                last_checkpoint = now
                checkpointed_seq = state["seq"]
                await background_db_sync_to_async(_checkpoint)(message.id, content=state["text"], seq=checkpointed_seq)
    except ProviderError as exc:
        status, error = MessageStatus.ERROR, exc
    except asyncio.CancelledError:
        # The server is shutting down: save what exists; the reply cannot go on.
        await asyncio.shield(
            background_db_sync_to_async(_finalise)(
                message.id,
                status=MessageStatus.INTERRUPTED,
                content=state["text"] + "".join(buffer),
                stream_seq=state["seq"],
                error_code="interrupted",
                error="The server stopped while this reply was generated.",
            )
        )
        raise
    except Exception as exc:
        logger.exception("generation of %s failed", message.id)
        status, error = MessageStatus.ERROR, ProviderError(f"Generation failed: {exc.__class__.__name__}.")
    finally:
        if producer is not None and not producer.done():
            producer.cancel()

    await flush()
    ended = time.monotonic()
    completion_tokens = usage.completion_tokens if usage else (len(state["text"]) // 4 if state["text"] else 0)
    final = {
        "status": status,
        "content": state["text"],
        "stream_seq": state["seq"] + (2 if error else 1),
        "prompt_tokens": usage.prompt_tokens if usage else None,
        "completion_tokens": completion_tokens,
        "latency_ms": int((first_token_at - started) * 1000) if first_token_at else None,
        "duration_ms": int((ended - started) * 1000),
        "error_code": error.code if error else "",
        "error": str(error) if error else "",
    }
    await background_db_sync_to_async(_finalise)(message.id, **final)
    if error is not None:
        await streaming.publish(
            state,
            streaming.append_event(
                state, "error", {"message_id": str(message.id), "code": error.code, "message": str(error)}
            ),
        )
    done = {
        "message_id": str(message.id),
        "status": status,
        "usage": {"prompt_tokens": final["prompt_tokens"] or 0, "completion_tokens": completion_tokens},
    }
    await streaming.publish(state, streaming.append_event(state, streaming.TERMINAL_EVENT, done))
    if status == MessageStatus.COMPLETE and not conversation.title:
        try:
            await background_db_sync_to_async(conversation_autotitle)(conversation_id=conversation.pk)
        except Exception:
            logger.warning("could not title conversation %s", conversation.pk, exc_info=True)
