"""Retention: deleting conversations nobody has touched for a long time.

A conversation's last activity is its ``updated_at`` (a message sent, a reply saved, a rename, a
pin...). Those untouched since the cutoff are deleted with their messages and feedback, a batch
per transaction; a conversation with a reply in flight is never deleted, however old it looks.

What stays: shares made from a conversation are snapshots (``sharing.models``), so their links keep
working until they expire or are revoked, without a source; samples likewise. Collector items a
conversation used as context are the user's, not the conversation's, and stay too. So does the
reply ledger (``LedgerEntry``): the daily quota and the usage figures keep counting the replies.

``CHAT_RETENTION_DAYS`` (0: keep forever) is what the daily job (``conversations.tasks``) applies;
``manage.py purge`` previews or applies any age.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from files.services import files_delete_unreferenced

from .models import Conversation, Message

_AGE = re.compile(r"(\d{1,6})([dw])")
_UNIT_DAYS = {"d": 1, "w": 7}


def age_parse(text: str) -> timedelta:
    """``365d`` or ``52w`` as a timedelta; ValueError (saying what is accepted) otherwise."""
    match = _AGE.fullmatch(text.strip().lower()) if isinstance(text, str) else None
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"'{text}' is not an age: give a number of days or weeks above 0, like 365d or 12w.")
    return timedelta(days=int(match.group(1)) * _UNIT_DAYS[match.group(2)])


def retention_age() -> timedelta | None:
    """The configured retention (``CHAT_RETENTION_DAYS``), or None when conversations are kept forever."""
    days = settings.CHAT.get("RETENTION_DAYS") or 0
    return timedelta(days=days) if days > 0 else None


def _reply_in_flight():
    return Exists(Message.objects.in_flight().filter(conversation=OuterRef("pk")))


def conversations_expired(*, cutoff: datetime) -> QuerySet:
    """Conversations last active before ``cutoff`` and with no reply in flight."""
    return Conversation.objects.filter(updated_at__lt=cutoff).exclude(_reply_in_flight())


def conversations_in_flight(*, cutoff: datetime) -> int:
    """Conversations last active before ``cutoff`` that are kept for now: a reply is in flight."""
    return Conversation.objects.filter(updated_at__lt=cutoff).filter(_reply_in_flight()).count()


@dataclass(frozen=True)
class OwnerShare:
    email: str
    conversations: int
    messages: int


def purge_preview(*, cutoff: datetime) -> list[OwnerShare]:
    """What a purge at ``cutoff`` would delete, per owner (most conversations first). Two queries."""
    expired = conversations_expired(cutoff=cutoff)
    conversations = dict(
        expired.order_by().values_list("owner__email").annotate(n=Count("pk")).values_list("owner__email", "n")
    )
    messages = dict(
        Message.objects.filter(conversation__in=expired.values("pk"))
        .order_by()
        .values_list("conversation__owner__email")
        .annotate(n=Count("pk"))
        .values_list("conversation__owner__email", "n")
    )
    shares = [OwnerShare(email, count, messages.get(email, 0)) for email, count in conversations.items()]
    return sorted(shares, key=lambda s: (-s.conversations, s.email))


@dataclass(frozen=True)
class Purged:
    conversations: int
    messages: int


def conversations_purge(
    *, cutoff: datetime, batch_size: int = 500, on_batch: Callable[[Purged], None] | None = None
) -> Purged:
    """Delete the conversations last active before ``cutoff``, ``batch_size`` per transaction.

    Each batch is locked and checked again before it goes, so a conversation that got a message
    (or a reply started) since it was listed is kept. ``on_batch`` hears what each batch deleted.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    conversations = messages = 0
    after = None  # keyset pagination: batches skipped (kept) are never listed again
    while True:
        listed = conversations_expired(cutoff=cutoff).order_by("pk")
        if after is not None:
            listed = listed.filter(pk__gt=after)
        ids = list(listed.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return Purged(conversations, messages)
        after = ids[-1]
        with transaction.atomic():
            # Locked, then checked again: a message sent meanwhile moved updated_at, a reply
            # started meanwhile is in flight.
            locked = list(
                Conversation.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True)
            )
            still = list(conversations_expired(cutoff=cutoff).filter(pk__in=locked).values_list("pk", flat=True))
            attachments = Message.attachments.through.objects.filter(message__conversation_id__in=still)
            file_ids = list(attachments.values_list("storedfile_id", flat=True).distinct())
            deleted = Conversation.objects.filter(pk__in=still).delete()[1]
            # Files attached only to the purged conversations go with them.
            files_delete_unreferenced(file_ids=file_ids)
        batch = Purged(deleted.get(Conversation._meta.label, 0), deleted.get(Message._meta.label, 0))
        conversations += batch.conversations
        messages += batch.messages
        if on_batch is not None:
            on_batch(batch)


def purge_by_setting(*, now: datetime | None = None, batch_size: int = 500) -> Purged | None:
    """Apply ``CHAT_RETENTION_DAYS``; None (nothing done) when conversations are kept forever."""
    age = retention_age()
    if age is None:
        return None
    return conversations_purge(cutoff=(now or timezone.now()) - age, batch_size=batch_size)
