"""Read-only figures for the staff usage dashboard (``/admin/usage/``) and the admin home.

Every function here costs a fixed number of queries whatever the number of users, messages or
days: the work is done by the database (``Count``/``Sum``/``Avg`` with filters, ``TruncDate``
grouping, ``ROW_NUMBER`` windows for percentiles), and Python only fills the gaps (days without
messages) and derives ratios.

Messages sent, replies, active users, tokens, failures and time to first token are read from the
reply ledger (``LedgerEntry``, one entry per reply asked for), which deleting a conversation or an
account does not touch: yesterday's figures stay what they were. Each message sent asks for one
reply, so "messages" and "replies" are the same count, kept under both names for the pages that
show them side by side; imported history and clones of shares are neither. Figures about
conversations, feedback, replies in flight and the latest failures (which link to the message)
read their own tables.

Figures come split by source, as ``<figure>_app`` and ``<figure>_api`` next to ``<figure>``:
"app" is the app (the REST API with a user's session), "api" a personal API key through the
OpenAI-compatible API (the ledger's ``source``; for conversations, ``Conversation.api_key`` set).
The split is conditional aggregation in the same query as the total, so it costs no query of its
own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Aggregate, Avg, Count, Exists, F, Max, OuterRef, Q, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce, RowNumber, TruncDate
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from accounts.models import Plan
from conversations.models import (
    IN_FLIGHT_STATUSES,
    Conversation,
    Feedback,
    LedgerEntry,
    Message,
    MessageStatus,
    Rating,
    Role,
)
from files.models import StoredFile
from sharing.models import Share

WINDOW_CHOICES = (7, 14, 30)
DEFAULT_WINDOW_DAYS = 14
TOP_USERS_LIMIT = 10
API_KEYS_LIMIT = 20
LATEST_FAILURES_LIMIT = 5
HOME_TOP_USERS_LIMIT = 5
SOURCES = ("app", "api")
# The name of the replies whose model was deleted from the catalog since.
REMOVED_MODELS = gettext_lazy("Models removed from the catalog")
FAILED_STATUSES = (MessageStatus.ERROR, MessageStatus.INTERRUPTED)
# A reply's tokens, prompt and completion; either may be unknown (a reply cut short, a provider
# that does not report usage) without losing the other.
_REPLY_TOKENS = Coalesce("prompt_tokens", 0) + Coalesce("completion_tokens", 0)


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


def _source_filter(source: str, *, path: str | None = None) -> Q:
    """Rows of one source: the ledger's own ``source``, or, where ``path`` leads from the queried
    model to a conversation, whether it has an API key."""
    if path is None:
        return Q(source=source)
    return Q(**{f"{path}api_key__isnull": source == "app"})


def _by_source(
    name: str,
    function: type[Aggregate],
    expression: str,
    *,
    filter: Q | None = None,
    path: str | None = None,
    **extra,
) -> dict[str, Aggregate]:
    """``name`` over every row and ``name_app``/``name_api`` over each source's, for one query.

    The total comes last: once ``name`` is an annotation, a later ``Sum("prompt_tokens")`` would
    refer to it rather than to the field of the same name.
    """
    aggregates = {}
    for source in SOURCES:
        in_source = _source_filter(source, path=path)
        aggregates[f"{name}_{source}"] = function(
            expression, filter=in_source if filter is None else filter & in_source, **extra
        )
    aggregates[name] = function(expression, filter=filter, **extra)
    return aggregates


def _names(*figures: str) -> list[str]:
    return [f"{figure}{suffix}" for figure in figures for suffix in ("", "_app", "_api")]


def _as_messages_sent(figures: dict, *, replies: str, messages: str) -> dict:
    """Each message sent asked for one reply (one ledger entry): the same count, by source."""
    for suffix in ("", "_app", "_api"):
        figures[f"{messages}{suffix}"] = figures[f"{replies}{suffix}"]
    return figures


def usage_window(*, days: int, now: datetime | None = None) -> UsageWindow:
    if days not in WINDOW_CHOICES:
        raise ValueError(f"days must be one of {WINDOW_CHOICES}, not {days!r}")
    return _whole_days(days, now)


def usage_today(*, now: datetime | None = None) -> UsageWindow:
    """Today alone, from local midnight: the admin home's figures of the day."""
    return _whole_days(1, now)


def _whole_days(days: int, now: datetime | None) -> UsageWindow:
    today = timezone.localdate(now or timezone.now())
    first_day = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
    return UsageWindow(days=days, first_day=first_day, last_day=today, since=since)


def usage_totals(*, window: UsageWindow) -> dict:
    """3 queries: users (all and new), conversations, messages, replies, distinct senders and keys.

    Users have no source; conversations (all time, those that still exist), messages sent, replies
    and active users (who sent a message) are split by it. ``api_keys_used``: keys with a reply in
    the window.
    """
    user_figures = get_user_model().objects.aggregate(
        users=Count("id"), new_users=Count("id", filter=Q(date_joined__gte=window.since))
    )
    conversation_figures = Conversation.objects.aggregate(**_by_source("conversations", Count, "id", path=""))
    ledger_figures = LedgerEntry.objects.filter(created_at__gte=window.since).aggregate(
        **_by_source("replies", Count, "id"),
        **_by_source("active_users", Count, "user", distinct=True),
        api_keys_used=Count("api_key", distinct=True),
    )
    _as_messages_sent(ledger_figures, replies="replies", messages="messages")
    return {**user_figures, **conversation_figures, **ledger_figures}


def usage_per_day(*, window: UsageWindow) -> list[dict]:
    """1 query. One row per day of the window, oldest first, days without messages included.

    Per day, each also by source: ``user_messages``, ``replies``, ``active_users`` (distinct
    senders that day), ``tokens`` (prompt and completion tokens of the replies); and ``finished``
    and ``failed`` replies with their ``error_rate`` (a reply still streaming has not failed yet).

    ``user_pct``/``reply_pct`` are the bar widths (share of the busiest figure in the window);
    ``user_api_pct``/``reply_api_pct`` the API-key share of each bar.
    """
    grouped = (
        LedgerEntry.objects.filter(created_at__gte=window.since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            **_by_source("replies", Count, "id"),
            **_by_source("active_users", Count, "user", distinct=True),
            **_by_source("tokens", Sum, _REPLY_TOKENS),
            finished=Count("id", filter=~Q(status__in=IN_FLIGHT_STATUSES)),
            failed=Count("id", filter=Q(status__in=FAILED_STATUSES)),
        )
        .order_by("day")
    )
    by_day = {row["day"]: _as_messages_sent(row, replies="replies", messages="user_messages") for row in grouped}
    figures = [*_names("user_messages", "replies", "active_users", "tokens"), "finished", "failed"]
    rows = [
        {"day": day, **{figure: by_day.get(day, {}).get(figure) or 0 for figure in figures}} for day in window.dates
    ]
    peak = max((max(row["user_messages"], row["replies"]) for row in rows), default=0)
    for row in rows:
        row["error_rate"] = row["failed"] / row["finished"] if row["finished"] else 0.0
        row["user_pct"] = round(100 * row["user_messages"] / peak) if peak else 0
        row["reply_pct"] = round(100 * row["replies"] / peak) if peak else 0
        row["user_api_pct"] = _share_pct(row["user_messages_api"], row["user_messages"])
        row["reply_api_pct"] = _share_pct(row["replies_api"], row["replies"])
    return rows


def usage_latency_per_day(*, window: UsageWindow) -> list[dict]:
    """1 query. Time to first token of each day's replies: ``p50_ms`` and ``p95_ms``, oldest first.

    Nearest-rank percentiles, found by the database: the replies of each day are numbered by
    latency (``ROW_NUMBER`` over a ``TruncDate`` partition) and only the two rows at rank
    ceil(n/2) and ceil(0.95 n) come back, so the result is two rows a day whatever the traffic.
    ``measured`` counts the replies with a latency; a day without any has ``None`` percentiles.
    """
    day = TruncDate("created_at")
    ranked = (
        LedgerEntry.objects.filter(created_at__gte=window.since, latency_ms__isnull=False)
        .annotate(
            day=day,
            rank=Window(RowNumber(), partition_by=[day], order_by=F("latency_ms").asc()),
            measured=Window(Count("id"), partition_by=[day]),
        )
        # Integer division: (n + 1) / 2 is ceil(n / 2), (95 n + 99) / 100 is ceil(0.95 n).
        .filter(Q(rank=(F("measured") + 1) / 2) | Q(rank=(F("measured") * 95 + 99) / 100))
        .values_list("day", "rank", "measured", "latency_ms")
    )
    by_day: dict[date, dict] = {}
    for row_day, rank, measured, latency_ms in ranked:
        figures = by_day.setdefault(row_day, {"measured": measured})
        if rank == (measured + 1) // 2:
            figures["p50_ms"] = latency_ms
        if rank == (measured * 95 + 99) // 100:
            figures["p95_ms"] = latency_ms
    return [{"day": day, "measured": 0, "p50_ms": None, "p95_ms": None, **by_day.get(day, {})} for day in window.dates]


def _share_pct(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def usage_per_model(*, window: UsageWindow) -> list[dict]:
    """1 query. Replies, tokens, time to first token and failure share per model, busiest first.

    Every figure also by source (``replies_app``, ``error_rate_api``...). The error rate is over
    finished replies: one still streaming has not failed (yet).
    """
    rows = list(
        LedgerEntry.objects.filter(created_at__gte=window.since)
        .values("model_id", "model__slug", "model__display_name")
        .annotate(
            **_by_source("replies", Count, "id"),
            **_by_source("finished", Count, "id", filter=~Q(status__in=IN_FLIGHT_STATUSES)),
            **_by_source("failed", Count, "id", filter=Q(status__in=FAILED_STATUSES)),
            **_by_source("prompt_tokens", Sum, "prompt_tokens"),
            **_by_source("completion_tokens", Sum, "completion_tokens"),
            **_by_source("avg_latency_ms", Avg, "latency_ms"),
        )
        .order_by("-replies", "model__slug")
    )
    for row in rows:
        # A model deleted from the catalog leaves its replies with no model (SET_NULL): they still
        # count, in one row of their own (``removed``) that the tables name and the charts leave out.
        row["removed"] = row["model_id"] is None
        row["name"] = row["model__display_name"] or str(REMOVED_MODELS)
        row["slug"] = row["model__slug"] or ""
        for suffix in ("", "_app", "_api"):
            row[f"prompt_tokens{suffix}"] = row[f"prompt_tokens{suffix}"] or 0
            row[f"completion_tokens{suffix}"] = row[f"completion_tokens{suffix}"] or 0
            latency = row[f"avg_latency_ms{suffix}"]
            row[f"avg_latency_ms{suffix}"] = round(latency) if latency is not None else None
            finished, failed = row[f"finished{suffix}"], row[f"failed{suffix}"]
            row[f"error_rate{suffix}"] = failed / finished if finished else 0.0
            row[f"error_pct{suffix}"] = 100 * row[f"error_rate{suffix}"]
    return rows


def usage_reply_statuses(*, window: UsageWindow) -> dict:
    """1 query. Replies of the window by final status, plus every reply in flight right now.

    In-flight replies are counted whenever they started: a reply stuck since before the window is
    exactly what an operator wants to see. "In flight" is the live state of the reply's message,
    not only the ledger's: a reply deleted before it ended (a conversation deleted in the admin)
    is no longer in flight, whatever its entry says. Each figure also by source (``complete_api``...).
    """
    in_window = Q(created_at__gte=window.since)
    ledger_in_flight = Q(status__in=IN_FLIGHT_STATUSES)
    live = Exists(Message.objects.in_flight().filter(pk=OuterRef("message_id")))
    figures = LedgerEntry.objects.filter(in_window | ledger_in_flight).aggregate(
        **_by_source("complete", Count, "id", filter=in_window & Q(status=MessageStatus.COMPLETE)),
        **_by_source("stopped", Count, "id", filter=in_window & Q(status=MessageStatus.STOPPED)),
        **_by_source("error", Count, "id", filter=in_window & Q(status=MessageStatus.ERROR)),
        **_by_source("interrupted", Count, "id", filter=in_window & Q(status=MessageStatus.INTERRUPTED)),
        **_by_source("in_flight", Count, "id", filter=ledger_in_flight & Q(live)),
    )
    return figures


def usage_feedback(*, window: UsageWindow) -> dict:
    """1 query. Ratings given in the window, also by the source of the rated reply's conversation."""
    path = "message__conversation__"
    return Feedback.objects.filter(created_at__gte=window.since).aggregate(
        **_by_source("up", Count, "id", filter=Q(rating=Rating.UP), path=path),
        **_by_source("down", Count, "id", filter=Q(rating=Rating.DOWN), path=path),
    )


def usage_top_users(*, window: UsageWindow, limit: int = TOP_USERS_LIMIT) -> list[dict]:
    """1 query. Users who sent the most messages in the window, with their plan (may be missing).

    Ranked by all their messages; ``messages_app``/``messages_api`` split them by source. Deleted
    accounts are left out (their entries have no user any more).
    """
    # Settings are one-to-one with the user, so joining them for the plan never multiplies rows.
    rows = (
        LedgerEntry.objects.filter(created_at__gte=window.since, user__isnull=False)
        .values("user_id", "user__email", "user__settings__plan__name")
        .annotate(**_by_source("messages", Count, "id"))
        .order_by("-messages", "user__email")[:limit]
    )
    return [
        {
            "user_id": row["user_id"],
            "email": row["user__email"],
            "plan": row["user__settings__plan__name"] or "",
            **{figure: row[figure] for figure in _names("messages")},
        }
        for row in rows
    ]


def usage_api_keys(*, window: UsageWindow, now: datetime | None = None, limit: int = API_KEYS_LIMIT) -> list[dict]:
    """1 query. The API keys with the most replies in the window, busiest first.

    Per key: name, prefix, owner, state (revoked, expired), replies and failed ones, tokens, the
    last reply of the window and the key's own last use (``last_used_at``, any request, any time).
    Never the key's hash: only what its owner is shown too.
    """
    now = now or timezone.now()
    key = "api_key__"
    rows = (
        LedgerEntry.objects.filter(created_at__gte=window.since, api_key__isnull=False)
        .values(
            f"{key}id",
            f"{key}name",
            f"{key}prefix",
            f"{key}user_id",
            f"{key}user__email",
            f"{key}last_used_at",
            f"{key}revoked_at",
            f"{key}expires_at",
        )
        .annotate(
            replies=Count("id"),
            failed=Count("id", filter=Q(status__in=FAILED_STATUSES)),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            last_reply_at=Max("created_at"),
        )
        .order_by("-replies", "-last_reply_at", f"{key}id")[:limit]
    )
    keys = []
    for row in rows:
        if row[f"{key}revoked_at"] is not None:
            state = "revoked"
        elif row[f"{key}expires_at"] is not None and row[f"{key}expires_at"] <= now:
            state = "expired"
        else:
            state = ""
        keys.append(
            {
                "key_id": row[f"{key}id"],
                "name": row[f"{key}name"],
                "prefix": row[f"{key}prefix"],
                "user_id": row[f"{key}user_id"],
                "email": row[f"{key}user__email"],
                "state": state,
                "replies": row["replies"],
                "failed": row["failed"],
                "prompt_tokens": row["prompt_tokens"] or 0,
                "completion_tokens": row["completion_tokens"] or 0,
                "last_reply_at": row["last_reply_at"],
                "last_used_at": row[f"{key}last_used_at"],
            }
        )
    return keys


def usage_latest_failures(*, window: UsageWindow, limit: int = LATEST_FAILURES_LIMIT) -> list[dict]:
    """1 query. The most recent replies of the window that ended in error or were interrupted.

    What an operator needs to find them (when, status, error code, model, owner, source), never
    their content nor the error's full text (both are on the message's own admin page). Read from
    the messages, not the ledger: each row links to its message, and a deleted one has no page.
    """
    # Only replies asked for in this service (they have a ledger entry): an imported conversation
    # keeps its failed replies and their original dates, which are no failure of ours.
    asked_here = Exists(LedgerEntry.objects.filter(message_id=OuterRef("pk")))
    rows = (
        Message.objects.filter(role=Role.ASSISTANT, created_at__gte=window.since, status__in=FAILED_STATUSES)
        .filter(asked_here)
        .values(
            "id",
            "created_at",
            "status",
            "error_code",
            "model__display_name",
            "conversation__owner__email",
            "conversation__api_key_id",
        )
        .order_by("-created_at", "id")[:limit]
    )
    return [
        {
            "message_id": row["id"],
            "created_at": row["created_at"],
            "status": row["status"],
            "error_code": row["error_code"],
            "model": row["model__display_name"] or str(REMOVED_MODELS),
            "email": row["conversation__owner__email"],
            "source": "app" if row["conversation__api_key_id"] is None else "api",
        }
        for row in rows
    ]


def usage_shares(*, window: UsageWindow) -> dict:
    """1 query. Shares created in the window and how often they were viewed.

    Views are a counter on the share, not a log with dates, so "views in the window" can only
    mean views of the shares created in it; the all-time total is given next to it.
    """
    in_window = Q(created_at__gte=window.since)
    figures = Share.objects.aggregate(
        created=Count("id", filter=in_window),
        views_of_new=Sum("view_count", filter=in_window),
        views_all_time=Sum("view_count"),
    )
    figures["views_of_new"] = figures["views_of_new"] or 0
    figures["views_all_time"] = figures["views_all_time"] or 0
    return figures


STORAGE_USERS_LIMIT = 10


def usage_storage(*, limit: int = STORAGE_USERS_LIMIT) -> dict:
    """1 query. Stored files (all time, not the window: storage is what is kept now): the users
    storing the most, with their file count and plan limit, and the total over every user."""
    per_user = (
        StoredFile.objects.values("owner_id", "owner__email", "owner__settings__plan__storage_limit_bytes")
        .annotate(bytes=Sum("size"), files=Count("id"))
        .order_by("-bytes", "owner_id")
    )
    # The whole table's totals as subqueries of the same statement, carried by every top row.
    everyone = StoredFile.objects.order_by().annotate(all=Value(1)).values("all")
    rows = list(
        per_user.annotate(
            total_bytes=Subquery(everyone.annotate(t=Sum("size")).values("t")),
            total_files=Subquery(everyone.annotate(t=Count("id")).values("t")),
            users=Subquery(everyone.annotate(t=Count("owner_id", distinct=True)).values("t")),
        )[:limit]
    )
    first = rows[0] if rows else {}
    return {
        "total_bytes": first.get("total_bytes") or 0,
        "total_files": first.get("total_files") or 0,
        "users": first.get("users") or 0,
        "top": [
            {
                "user_id": row["owner_id"],
                "email": row["owner__email"],
                "bytes": row["bytes"],
                "files": row["files"],
                "limit_bytes": row["owner__settings__plan__storage_limit_bytes"] or None,
            }
            for row in rows
        ],
    }


def usage_users_per_plan(*, total_users: int) -> list[dict]:
    """1 query. Every plan with its subscriber count; users without a settings row come last."""
    rows = [
        {"name": plan.name, "slug": plan.slug, "users": plan.user_count}
        for plan in Plan.objects.annotate(user_count=Count("subscribers")).order_by("order", "id")
    ]
    without_plan = total_users - sum(row["users"] for row in rows)
    if without_plan > 0:  # made outside the service (e.g. createsuperuser) and not signed in since
        rows.append({"name": gettext("(no settings yet)"), "slug": "", "users": without_plan})
    return rows


def usage_dashboard_data(*, days: int = DEFAULT_WINDOW_DAYS, now: datetime | None = None) -> dict:
    """Every figure of the dashboard: 12 queries, whatever the size of the data."""
    window = usage_window(days=days, now=now)
    totals = usage_totals(window=window)
    return {
        "window": window,
        "totals": totals,
        "per_day": usage_per_day(window=window),
        "per_model": usage_per_model(window=window),
        "statuses": usage_reply_statuses(window=window),
        "feedback": usage_feedback(window=window),
        "top_users": usage_top_users(window=window),
        "api_keys": usage_api_keys(window=window, now=now),
        "shares": usage_shares(window=window),
        "plans": usage_users_per_plan(total_users=totals["users"]),
        "storage": usage_storage(),
    }


def usage_home_data(*, days: int = DEFAULT_WINDOW_DAYS, now: datetime | None = None) -> dict:
    """Every figure of the admin home: 7 queries, whatever the size of the data.

    The window's series (``per_day``, ``latency_per_day``), whose last row is today; the window's
    ``per_model``, ``top_users`` and ``latest_failures``; and today's ``feedback`` and
    ``statuses`` (with every reply in flight now, whenever it started).
    """
    now = now or timezone.now()
    window = usage_window(days=days, now=now)
    today = usage_today(now=now)
    return {
        "window": window,
        "per_day": usage_per_day(window=window),
        "latency_per_day": usage_latency_per_day(window=window),
        "per_model": usage_per_model(window=window),
        "top_users": usage_top_users(window=window, limit=HOME_TOP_USERS_LIMIT),
        "latest_failures": usage_latest_failures(window=window),
        "feedback_today": usage_feedback(window=today),
        "statuses_today": usage_reply_statuses(window=today),
    }
