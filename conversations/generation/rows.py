"""Row writes of a reply being generated: the claim, checkpoints, the final save, reaping.

A reply's end (finalised, stopped before it started, reaped) is copied into its ledger entry in
the same transaction (``LedgerEntry.OUTCOME_FIELDS``): one more statement per reply, none per token.

Every UPDATE here is conditional on the status it expects, so a stopped or reaped reply is never
brought back by a late worker, and a worker learns from a zero row count that it lost the reply.

Ids never go back: ``stream_seq`` holds, while a reply streams, a *ceiling*: the generator may
publish events up to it without writing again (each checkpoint raises it to the current id plus
``SEQ_RESERVE``). Whoever finishes a reply whose log died with its process numbers the final events
above the ceiling, so a client resuming with any id it really received gets them. Once a reply is
final, ``stream_seq`` is the id of its ``message.done``.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from tools.services import tool_calls_interrupt

from .. import tree
from ..model_choice import model_for_or_none
from ..models import (
    Conversation,
    LedgerEntry,
    LLMModel,
    Message,
    MessageStatus,
    OriginKind,
    Role,
)

HISTORY_MAX_MESSAGES = 200
# More events than a reply publishes between two checkpoints (about 1/coalescing window a second,
# more with coalescing off); a reply that would pass it holds its deltas until the next checkpoint.
SEQ_RESERVE = 10_000


@dataclass(frozen=True, slots=True)
class Claimed:
    message: Message
    conversation: Conversation
    model: LLMModel | None
    # {id, role, content} of the turns before the reply, oldest first (the files attached to them,
    # the sources and the images are added by ``grounding`` once their files are read).
    history: list[dict]
    # The owner's custom instructions (their settings), read with the claim: ``grounding`` puts
    # them before the chat's system prompt of an app reply.
    instructions: str = ""


def reply_claim(*, message_id) -> Claimed | None:
    """Take a pending reply (one worker wins) and load what generating it needs."""
    now = timezone.now()
    if not Message.objects.filter(pk=message_id, status=MessageStatus.PENDING).update(
        status=MessageStatus.STREAMING, heartbeat_at=now, stream_seq=SEQ_RESERVE, updated_at=now
    ):
        return None
    message = Message.objects.select_related(
        "conversation", "conversation__model", "model", "conversation__owner__settings"
    ).get(pk=message_id)
    conversation = message.conversation
    # A reply's model is set when it is asked for; only a model deleted since leaves it unset.
    # An API request named its model: it is not answered by another one (the reply says no_model).
    model = message.model or conversation.model
    if model is None and conversation.origin_kind != OriginKind.API:
        model = model_for_or_none(user=conversation.owner, preferred=None)
    # The path above the reply, and nothing else: other versions of any turn are not its history.
    above = tree.Skeleton.of(conversation.pk).path(message.parent_id)[-HISTORY_MAX_MESSAGES:]
    history = list(
        Message.objects.filter(pk__in=above, role__in=(Role.USER, Role.ASSISTANT))
        # A reply with no text says nothing; a question may be files alone (grounding drops a
        # blank question without files).
        .exclude(content="", role=Role.ASSISTANT)
        .order_by("-created_at", "-id")
        .values("id", "role", "content", "tool_calls")
    )
    history.reverse()
    if not keeps_content(conversation):
        _request_forget(conversation=conversation, message=message)
    return Claimed(message, conversation, model, history, _instructions(conversation))


def _instructions(conversation: Conversation) -> str:
    try:
        return conversation.owner.settings.custom_instructions
    except ObjectDoesNotExist:  # a user made outside ``user_create`` has no settings row
        return ""


def reply_sources_save(*, message_id, sources: list[dict]) -> None:
    """Save a streaming reply's sources as soon as they are chosen (before its first delta), so a
    reader of the row (the message list, a client without the log, the reaper) has them."""
    Message.objects.filter(pk=message_id, status=MessageStatus.STREAMING).update(
        sources=sources, updated_at=timezone.now()
    )


def reply_tools_save(*, message_id, tool_calls: list[dict], notices: list[dict], sources: list[dict]) -> None:
    """Save a streaming reply's tool calls (when one starts and when it ends), its notices and its
    sources (a web search adds some): a reader of the row, and the reaper after a crash, have them."""
    now = timezone.now()
    # A beat too: the reaper's write is conditional on the heartbeat it read, so it never puts
    # back calls older than these.
    Message.objects.filter(pk=message_id, status=MessageStatus.STREAMING).update(
        tool_calls=tool_calls, notices=notices, sources=sources, heartbeat_at=now, updated_at=now
    )


def calls_ended(calls: list[dict], *, status: str, why: str) -> list[dict]:
    """``calls`` (``Message.tool_calls``) with those the server was still running ended as ``status``."""
    return [
        {**call, "status": status, "error": why} if isinstance(call, dict) and call.get("status") == "running" else call
        for call in calls or []
    ]


# Replies per checkpoint statement: each takes five parameters (SQLite allows 32,766).
CHECKPOINT_BATCH = 500


def replies_checkpoint(*, checkpoints: list[tuple[str, str, int]]) -> set[str]:
    """Save ``(message_id, content, ceiling)`` of streaming replies (also their heartbeat): one
    UPDATE for all of them (``CASE`` on the id), a batch at a time. Returns the ids no longer
    streaming (stopped or reaped meanwhile), read only when the update missed some."""
    now = timezone.now()
    lost: set[str] = set()
    for start in range(0, len(checkpoints), CHECKPOINT_BATCH):
        batch = checkpoints[start : start + CHECKPOINT_BATCH]
        ids = [message_id for message_id, _, _ in batch]
        updated = Message.objects.filter(pk__in=ids, status=MessageStatus.STREAMING).update(
            content=Case(*(When(pk=message_id, then=Value(content)) for message_id, content, _ in batch)),
            stream_seq=Case(*(When(pk=message_id, then=Value(ceiling)) for message_id, _, ceiling in batch)),
            heartbeat_at=now,
            updated_at=now,
        )
        if updated < len(batch):
            streaming = Message.objects.filter(pk__in=ids, status=MessageStatus.STREAMING).values_list("pk", flat=True)
            kept = {str(pk) for pk in streaming}
            lost |= {message_id for message_id in ids if str(message_id) not in kept}
    return lost


def _ledger_end(*, message_id, fields: dict) -> None:
    """Copy how a reply ended into its ledger entry. Called in the transaction of the update that
    ended the reply, and only when it did: an entry's outcome is written once, with the reply's."""
    LedgerEntry.objects.filter(message_id=message_id).update(
        **{name: fields[name] for name in LedgerEntry.OUTCOME_FIELDS if name in fields}
    )


def reply_finalise(*, message_id, **fields) -> bool:
    """Save the final state of a streaming reply. False if it was stopped or reaped meanwhile."""
    now = timezone.now()
    with transaction.atomic():
        if not Message.objects.filter(pk=message_id, status=MessageStatus.STREAMING).update(
            finished_at=now, heartbeat_at=now, updated_at=now, **fields
        ):
            return False
        _ledger_end(message_id=message_id, fields=fields)
    return True


def reply_stop_pending(*, message_id) -> Message | None:
    """Stop a reply nobody has started: it ends with no text. Returns the row if it was pending."""
    now = timezone.now()
    with transaction.atomic():
        if not Message.objects.filter(pk=message_id, status=MessageStatus.PENDING).update(
            status=MessageStatus.STOPPED, finished_at=now, heartbeat_at=now, updated_at=now, stream_seq=2
        ):
            return None
        # It made nothing: 0 tokens (what the daily quota reads to leave it out, ``quota.charged``).
        _ledger_end(message_id=message_id, fields={"status": MessageStatus.STOPPED, "completion_tokens": 0})
    return Message.objects.get(pk=message_id)


def replies_stale(*, conversation_id=None, message_ids=None, stale_after: float | None = None) -> list[Message]:
    """In-flight replies whose worker stopped beating (``stale_after=0``: every in-flight reply)."""
    stale_after = settings.CHAT["STALE_AFTER_SECONDS"] if stale_after is None else stale_after
    cutoff = timezone.now() - timedelta(seconds=stale_after)
    qs = Message.objects.in_flight().filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    if stale_after <= 0:
        qs = Message.objects.in_flight()
    if conversation_id is not None:
        qs = qs.filter(conversation_id=conversation_id)
    if message_ids is not None:
        qs = qs.filter(pk__in=message_ids)
    fields = ("id", "conversation_id", "content", "status", "heartbeat_at", "stream_seq", "created_at")
    kept_by = ("conversation__origin_kind",)  # whether its text may be kept (keeps_content)
    return list(
        qs.select_related("conversation").only(
            *fields,
            *kept_by,
            "prompt_tokens",
            "completion_tokens",
            "error_code",
            "error",
            "sources",
            "tool_calls",
            "notices",
        )
    )


def reply_interrupt(*, message: Message, status_before: str, content: str, done_seq: int) -> bool:
    """Mark a stale reply interrupted, keeping ``content``; False if its state moved meanwhile."""
    now = timezone.now()
    with transaction.atomic():
        if not Message.objects.filter(pk=message.pk, status=status_before, heartbeat_at=message.heartbeat_at).update(
            status=MessageStatus.INTERRUPTED,
            content=content,
            # A call it was making is not made again: it is marked as never finished (the caller
            # ended them: ``calls_ended``).
            tool_calls=message.tool_calls,
            stream_seq=done_seq,
            error_code="interrupted",
            error=_("The worker generating this reply stopped before it finished."),
            finished_at=now,
            updated_at=now,
        ):
            return False
        _ledger_end(message_id=message.pk, fields={"status": MessageStatus.INTERRUPTED})
        tool_calls_interrupt(message_id=message.pk)
    return True


def keeps_content(conversation: Conversation) -> bool:
    """Whether what was said is stored: always for the app; for the OpenAI-compatible API only
    with ``CHAT_API_KEEP_CONTENT`` (its usage figures are stored either way)."""
    return conversation.origin_kind != OriginKind.API or settings.CHAT["API_KEEP_CONTENT"]


def _request_forget(*, conversation: Conversation, message: Message) -> None:
    """Blank an API request's text once its reply is claimed: the worker holds it in memory from
    here, and whatever happens next (a crash, the reaper) nothing of it stays in the database."""
    now = timezone.now()
    Message.objects.filter(conversation_id=conversation.pk, role=Role.USER).update(content="", updated_at=now)
    options = {
        k: v for k, v in message.generation_options.items() if k not in ("system", "messages", "stop", "upstream")
    }
    Message.objects.filter(pk=message.pk).update(generation_options=options, updated_at=now)
