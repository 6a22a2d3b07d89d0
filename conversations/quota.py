"""A plan's daily message quota: what counts as a message sent today, and when the day ends.

The one rule, for the check before a reply starts (``services._check_plan_limits``) and for the
figures a user reads (``usage_today`` of ``GET /user/settings/subscription``): every reply the user
asked for since midnight UTC, as the reply ledger (``LedgerEntry``) records them: messages sent,
regenerates and edits (each costs one message, as sending does) and the OpenAI-compatible API's
requests. The ledger outlives the conversations, so deleting them gives nothing back; imported
history and clones of shares are not replies asked for and never count. When staff reset a user's
quota for today (``quota_reset``), only replies asked for after that moment count until midnight.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from accounts.models import UserSettings

from .models import LedgerEntry


@dataclass(frozen=True, slots=True)
class DailyUsage:
    messages_sent: int
    daily_message_limit: int | None  # None: unlimited (a plan's 0)
    resets_at: datetime  # the next midnight UTC

    @property
    def exhausted(self) -> bool:
        return self.daily_message_limit is not None and self.messages_sent >= self.daily_message_limit


def _utc_midnight(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def messages_sent_today(*, owner_id: int, reset_at: datetime | None = None, now: datetime | None = None) -> int:
    """Replies the user has asked for since midnight UTC, or since a staff reset made later today
    (one query, on the ledger's (user, created_at) index)."""
    since = _utc_midnight(now or timezone.now())
    if reset_at is not None and reset_at > since:
        since = reset_at
    return LedgerEntry.objects.filter(user_id=owner_id, created_at__gte=since).count()


def daily_usage(*, settings_row: UserSettings, now: datetime | None = None) -> DailyUsage:
    """Today's count against the user's plan's daily limit, and when it resets."""
    now = now or timezone.now()
    return DailyUsage(
        messages_sent=messages_sent_today(owner_id=settings_row.user_id, reset_at=settings_row.quota_reset_at, now=now),
        daily_message_limit=settings_row.plan.daily_message_limit or None,
        resets_at=_utc_midnight(now) + timedelta(days=1),
    )


def quota_reset(*, settings_rows) -> int:
    """Staff: today's messages of these users stop counting (their quota starts again now)."""
    return settings_rows.update(quota_reset_at=timezone.now())
