"""A plan's daily message quota: what counts as a message sent today, and when the day ends.

The one rule, for the check before a reply starts (``services._check_plan_limits``) and for the
figures a user reads (``usage_today`` of ``GET /user/settings/subscription``): every user message
created since midnight UTC in any of the user's conversations, the OpenAI-compatible API's requests
included, and superseded ones too (regenerating or editing a turn costs one message, as sending
does). When staff reset a user's quota for today (``quota_reset``), only messages after that
moment count until midnight.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from accounts.models import UserSettings

from .models import Message, Role


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
    """User messages the user has created since midnight UTC, or since a staff reset made later
    today (one query)."""
    since = _utc_midnight(now or timezone.now())
    if reset_at is not None and reset_at > since:
        since = reset_at
    return Message.objects.filter(conversation__owner_id=owner_id, role=Role.USER, created_at__gte=since).count()


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
