"""A plan's daily message quota: what counts as a message sent today, and when the day ends.

The one rule, for the check before a reply starts (``services._check_plan_limits``) and for the
figures a user reads (``usage_today`` of ``GET /user/settings/subscription``): every reply the user
asked for since midnight in the user's time zone (their saved ``time_zone``, UTC when none is saved:
``accounts.preferences.saved_zone``), as the reply ledger (``LedgerEntry``) records them: messages
sent, regenerates and edits (each costs one message, as sending does) and the OpenAI-compatible
API's requests. The ledger outlives the conversations, so deleting them gives nothing back; imported
history and clones of shares are not replies asked for and never count. When staff reset a user's
quota for today (``quota_reset``), only replies asked for after that moment count until midnight.

**A reply known to have said nothing is free** (``charged``): one that ended ``error``,
``stopped`` or ``interrupted`` with no first token (no ``latency_ms``) and no completion token
(``completion_tokens`` 0, as the generator records such an end, and as a reply stopped before a
worker took it is recorded). Clients retry such failures by themselves (OpenAI's SDKs retry a 503,
a timeout, a dropped connection) and would otherwise pay once per try. Everything else counts: a
reply in flight (it may yet answer), a complete one, one that failed after some text, and one whose
end does not say what it gave (no ``completion_tokens``): a reply whose conversation was deleted
while it ran (deleting must not give a message back, even one that was streaming), and one
interrupted by a crash or a restart (the reaper does not know whether its text had begun).

A user who changes their zone moves their day with it: the count is always "since my last
midnight", so a change can give back or take away the hours between the two midnights (once).
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import UserSettings
from accounts.preferences import saved_zone

from .models import LedgerEntry, MessageStatus

# The ends a reply may have without giving anything (see the module's docstring).
FAILED_STATUSES = (MessageStatus.ERROR, MessageStatus.STOPPED, MessageStatus.INTERRUPTED)


def charged() -> Q:
    """The ledger entries the daily quota counts: every reply asked for but those that ended
    ``error``, ``stopped`` or ``interrupted`` having given nothing (no first token, 0 tokens)."""
    return ~Q(status__in=FAILED_STATUSES, latency_ms__isnull=True, completion_tokens=0)


@dataclass(frozen=True, slots=True)
class DailyUsage:
    messages_sent: int
    daily_message_limit: int | None  # None: unlimited (a plan's 0)
    resets_at: datetime  # the user's next midnight (an instant; UTC in the API)

    @property
    def exhausted(self) -> bool:
        return self.daily_message_limit is not None and self.messages_sent >= self.daily_message_limit


def day_bounds(now: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """[midnight, next midnight) of the day ``now`` falls on in ``zone``. A DST day is 23 or 25
    hours long; where midnight itself is skipped (a spring-forward at 00:00), the day starts at
    the first instant of the new date."""
    day = now.astimezone(zone).date()
    return (
        datetime.combine(day, time.min, tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
    )


def messages_sent_today(
    *, owner_id: int, zone: tzinfo, reset_at: datetime | None = None, now: datetime | None = None
) -> int:
    """Replies the user has asked for since their midnight, or since a staff reset made later that
    day, but those that failed having said nothing (one query, on the ledger's (user,
    created_at) index)."""
    return _sent_since(owner_id, counted_since(zone=zone, reset_at=reset_at, now=now)).count()


def counted_since(*, zone: tzinfo, reset_at: datetime | None = None, now: datetime | None = None) -> datetime:
    """Where today's count starts: the user's midnight, or a staff reset made later that day."""
    since, _ = day_bounds(now or timezone.now(), zone)
    return reset_at if reset_at is not None and reset_at > since else since


def _sent_since(owner, since: datetime):
    return LedgerEntry.objects.filter(charged(), user_id=owner, created_at__gte=since)


def messages_sent_since_expression(owner_field: str, since: datetime) -> Coalesce:
    """``messages_sent_today`` as a subquery of another read (the send's one read of what it
    checks, ``services._send_read``): the count of the row's ``owner_field`` user since ``since``."""
    rows = _sent_since(OuterRef(owner_field), since).order_by().values("user_id").annotate(n=Count("id"))
    return Coalesce(Subquery(rows.values("n")[:1]), 0)


def daily_usage(
    *, settings_row: UserSettings, now: datetime | None = None, messages_sent: int | None = None
) -> DailyUsage:
    """Today's count (the user's today) against the user's plan's daily limit, and when it resets.
    ``messages_sent``: the count, when the caller read it already (``messages_sent_since_expression``
    from ``counted_since(...)`` of this row at this ``now``)."""
    now = now or timezone.now()
    zone = saved_zone(settings_row.time_zone)
    if messages_sent is None:
        messages_sent = messages_sent_today(
            owner_id=settings_row.user_id, zone=zone, reset_at=settings_row.quota_reset_at, now=now
        )
    return DailyUsage(
        messages_sent=messages_sent,
        daily_message_limit=settings_row.plan.daily_message_limit or None,
        resets_at=day_bounds(now, zone)[1],
    )


def quota_reset(*, settings_rows) -> int:
    """Staff: today's messages of these users stop counting (their quota starts again now)."""
    return settings_rows.update(quota_reset_at=timezone.now())
