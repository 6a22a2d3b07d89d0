"""Read-only figures for the staff usage dashboard.

Every function here costs a fixed number of queries whatever the number of users, messages or
days: the work is done by the database (``Count``/``Sum``/``Avg`` with filters, ``TruncDate``
grouping), and Python only fills the gaps (days without messages) and derives ratios.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Plan

from .models import IN_FLIGHT_STATUSES, Conversation, Feedback, Message, MessageStatus, Rating, Role

WINDOW_CHOICES = (7, 14, 30)
DEFAULT_WINDOW_DAYS = 14
TOP_USERS_LIMIT = 10
FAILED_STATUSES = (MessageStatus.ERROR, MessageStatus.INTERRUPTED)


@dataclass(frozen=True)
class UsageWindow:
    """Whole local days, today included: ``days=7`` is today and the six days before it."""

    days: int
    first_day: date
    last_day: date
    since: datetime

    @property
    def dates(self) -> list[date]:
        return [self.first_day + timedelta(days=offset) for offset in range(self.days)]


def usage_window(*, days: int, now: datetime | None = None) -> UsageWindow:
    if days not in WINDOW_CHOICES:
        raise ValueError(f"days must be one of {WINDOW_CHOICES}, not {days!r}")
    today = timezone.localdate(now or timezone.now())
    first_day = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
    return UsageWindow(days=days, first_day=first_day, last_day=today, since=since)


def usage_totals(*, window: UsageWindow) -> dict:
    """3 queries: users (all and new), conversations, user messages and distinct senders."""
    user_figures = get_user_model().objects.aggregate(
        users=Count("id"), new_users=Count("id", filter=Q(date_joined__gte=window.since))
    )
    conversations = Conversation.objects.count()
    message_figures = Message.objects.filter(role=Role.USER, created_at__gte=window.since).aggregate(
        messages=Count("id"), active_users=Count("conversation__owner", distinct=True)
    )
    return {**user_figures, "conversations": conversations, **message_figures}


def usage_messages_per_day(*, window: UsageWindow) -> list[dict]:
    """1 query. One row per day of the window, oldest first, days without messages included.

    ``user_pct``/``reply_pct`` are the bar widths (share of the busiest figure in the window).
    """
    grouped = (
        Message.objects.filter(created_at__gte=window.since, role__in=(Role.USER, Role.ASSISTANT))
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            user_messages=Count("id", filter=Q(role=Role.USER)),
            replies=Count("id", filter=Q(role=Role.ASSISTANT)),
        )
        .order_by("day")
    )
    by_day = {row["day"]: row for row in grouped}
    rows = [
        {
            "day": day,
            "user_messages": by_day.get(day, {}).get("user_messages", 0),
            "replies": by_day.get(day, {}).get("replies", 0),
        }
        for day in window.dates
    ]
    peak = max((max(row["user_messages"], row["replies"]) for row in rows), default=0)
    for row in rows:
        row["user_pct"] = round(100 * row["user_messages"] / peak) if peak else 0
        row["reply_pct"] = round(100 * row["replies"] / peak) if peak else 0
    return rows


def usage_per_model(*, window: UsageWindow) -> list[dict]:
    """1 query. Replies, tokens, time to first token and failure share per model, busiest first.

    The error rate is over finished replies: one still streaming has not failed (yet).
    """
    rows = list(
        Message.objects.filter(role=Role.ASSISTANT, created_at__gte=window.since)
        .values("model_id", "model__slug", "model__display_name")
        .annotate(
            replies=Count("id"),
            finished=Count("id", filter=~Q(status__in=IN_FLIGHT_STATUSES)),
            failed=Count("id", filter=Q(status__in=FAILED_STATUSES)),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            avg_latency_ms=Avg("latency_ms"),
        )
        .order_by("-replies", "model__slug")
    )
    for row in rows:
        # A deleted model leaves its replies with no model (SET_NULL); they still count.
        row["name"] = row["model__display_name"] or "(deleted model)"
        row["slug"] = row["model__slug"] or ""
        row["prompt_tokens"] = row["prompt_tokens"] or 0
        row["completion_tokens"] = row["completion_tokens"] or 0
        row["avg_latency_ms"] = round(row["avg_latency_ms"]) if row["avg_latency_ms"] is not None else None
        row["error_rate"] = row["failed"] / row["finished"] if row["finished"] else 0.0
        row["error_pct"] = 100 * row["error_rate"]
    return rows


def usage_reply_statuses(*, window: UsageWindow) -> dict:
    """1 query. Replies of the window by final status, plus every reply in flight right now.

    In-flight replies are counted whenever they started: a reply stuck since before the window is
    exactly what an operator wants to see.
    """
    in_window = Q(created_at__gte=window.since)
    figures = (
        Message.objects.filter(role=Role.ASSISTANT)
        .filter(in_window | Q(status__in=IN_FLIGHT_STATUSES))
        .aggregate(
            complete=Count("id", filter=in_window & Q(status=MessageStatus.COMPLETE)),
            stopped=Count("id", filter=in_window & Q(status=MessageStatus.STOPPED)),
            error=Count("id", filter=in_window & Q(status=MessageStatus.ERROR)),
            interrupted=Count("id", filter=in_window & Q(status=MessageStatus.INTERRUPTED)),
            in_flight=Count("id", filter=Q(status__in=IN_FLIGHT_STATUSES)),
        )
    )
    return figures


def usage_feedback(*, window: UsageWindow) -> dict:
    """1 query. Ratings given in the window."""
    return Feedback.objects.filter(created_at__gte=window.since).aggregate(
        up=Count("id", filter=Q(rating=Rating.UP)), down=Count("id", filter=Q(rating=Rating.DOWN))
    )


def usage_top_users(*, window: UsageWindow, limit: int = TOP_USERS_LIMIT) -> list[dict]:
    """1 query. Users who sent the most messages in the window, with their plan (may be missing)."""
    # Settings are one-to-one with the user, so joining them for the plan never multiplies rows.
    rows = (
        Message.objects.filter(role=Role.USER, created_at__gte=window.since)
        .values("conversation__owner_id", "conversation__owner__email", "conversation__owner__settings__plan__name")
        .annotate(messages=Count("id"))
        .order_by("-messages", "conversation__owner__email")[:limit]
    )
    return [
        {
            "user_id": row["conversation__owner_id"],
            "email": row["conversation__owner__email"],
            "plan": row["conversation__owner__settings__plan__name"] or "",
            "messages": row["messages"],
        }
        for row in rows
    ]


def usage_shares(*, window: UsageWindow) -> dict:
    """1 query. Shares created in the window and how often they were viewed.

    Views are a counter on the share, not a log with dates, so "views in the window" can only
    mean views of the shares created in it; the all-time total is given next to it.
    """
    share_model = apps.get_model("sharing", "Share")  # sharing depends on conversations, not back
    in_window = Q(created_at__gte=window.since)
    figures = share_model.objects.aggregate(
        created=Count("id", filter=in_window),
        views_of_new=Sum("view_count", filter=in_window),
        views_all_time=Sum("view_count"),
    )
    figures["views_of_new"] = figures["views_of_new"] or 0
    figures["views_all_time"] = figures["views_all_time"] or 0
    return figures


def usage_users_per_plan(*, total_users: int) -> list[dict]:
    """1 query. Every plan with its subscriber count; users without a settings row come last."""
    rows = [
        {"name": plan.name, "slug": plan.slug, "users": plan.user_count}
        for plan in Plan.objects.annotate(user_count=Count("subscribers")).order_by("order", "id")
    ]
    without_plan = total_users - sum(row["users"] for row in rows)
    if without_plan > 0:  # made outside the service (e.g. createsuperuser) and not signed in since
        rows.append({"name": "(no settings yet)", "slug": "", "users": without_plan})
    return rows


def usage_dashboard_data(*, days: int = DEFAULT_WINDOW_DAYS, now: datetime | None = None) -> dict:
    """Every figure of the dashboard: 10 queries, whatever the size of the data."""
    window = usage_window(days=days, now=now)
    totals = usage_totals(window=window)
    return {
        "window": window,
        "totals": totals,
        "per_day": usage_messages_per_day(window=window),
        "per_model": usage_per_model(window=window),
        "statuses": usage_reply_statuses(window=window),
        "feedback": usage_feedback(window=window),
        "top_users": usage_top_users(window=window),
        "shares": usage_shares(window=window),
        "plans": usage_users_per_plan(total_users=totals["users"]),
    }
