"""Two admin pages over the usage figures of :mod:`console.usage`: the detailed usage
dashboard (``/admin/usage/``) and the admin home (``/admin/``, unfold's ``DASHBOARD_CALLBACK``),
the operator's one-minute read of who is using what, how much, and whether anything is failing.

Both take the same ``?days=`` window. The home's charts are unfold's chart components (Chart.js,
shipped and started by unfold); their data is JSON built here, never in the template.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

from .usage import DEFAULT_WINDOW_DAYS, WINDOW_CHOICES, usage_dashboard_data, usage_home_data


def parse_days(raw: str | None) -> int | None:
    """The window in days, or None when the value is not one of the offered choices."""
    if raw is None or raw == "":
        return DEFAULT_WINDOW_DAYS
    try:
        days = int(raw)
    except ValueError:
        return None
    return days if days in WINDOW_CHOICES else None


def _days_error(raw: str) -> str:
    return f"“days” must be one of {', '.join(str(choice) for choice in WINDOW_CHOICES)}; got “{raw[:20]}”."


def usage_dashboard(request):
    days = parse_days(request.GET.get("days"))
    context = {
        **admin.site.each_context(request),
        "title": "Usage dashboard",
        "window_choices": WINDOW_CHOICES,
        "time_zone": timezone.get_current_timezone_name(),
    }
    if days is None:
        # A 400 that names the problem rather than silently showing another window than asked.
        context["days_error"] = _days_error(request.GET["days"])
        return TemplateResponse(request, "admin/usage_dashboard.html", context, status=400)
    context.update(usage_dashboard_data(days=days))
    context["days"] = days
    return TemplateResponse(request, "admin/usage_dashboard.html", context)


# --- the admin home -------------------------------------------------------------------------

# One colour per source on every chart: the app in the theme's strong primary, API keys lighter.
APP_COLOR = "var(--color-primary-600)"
API_COLOR = "var(--color-primary-300)"
ERROR_COLOR = "var(--color-red-500)"
P50_COLOR = "var(--color-primary-600)"
P95_COLOR = "var(--color-orange-400)"


@dataclass(frozen=True)
class Kpi:
    """One of today's figures: a headline ``value``, its split or context in ``detail``, and a
    comparison with the window in ``footer``. ``alert`` marks a figure that needs a look."""

    key: str
    title: str
    value: str
    detail: str
    footer: str = ""
    href: str = ""
    alert: bool = False


@dataclass(frozen=True)
class Chart:
    """An unfold chart component: ``kind`` is "bar" or "line", ``data`` Chart.js's data as JSON.
    unfold hides Chart.js's legend, so ``legend`` (label, colour) is drawn next to the chart."""

    key: str
    title: str
    kind: str
    data: str
    legend: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""
    width: str = ""  # extra grid classes of the chart's card


def _count(value: int) -> str:
    return f"{value:,}"


def _ms(value: int | None) -> str:
    return "—" if value is None else f"{value:,} ms"


def _per_day_average(rows: list[dict], figure: str) -> str:
    average = sum(row[figure] for row in rows) / len(rows)
    return f"{average:.1f}".removesuffix(".0") if average < 10 else f"{round(average):,}"


def _links(days: int | None) -> dict[str, str]:
    messages = reverse("admin:conversations_message_changelist")
    usage = reverse("admin-usage")
    return {
        "usage": f"{usage}?days={days}" if days else usage,
        "failed": f"{messages}?status__exact=error",
        "interrupted": f"{messages}?status__exact=interrupted",
        "audit": reverse("admin:auditlog_logentry_changelist"),
    }


def _kpis(data: dict, links: dict[str, str]) -> list[Kpi]:
    per_day, days = data["per_day"], data["window"].days
    today, latency = per_day[-1], data["latency_per_day"][-1]
    feedback, statuses = data["feedback_today"], data["statuses_today"]
    over_window = f"over the last {days} days"

    def by_source(key: str, title: str, figure: str) -> Kpi:
        split = f"app {_count(today[f'{figure}_app'])} · API key {_count(today[f'{figure}_api'])}"
        average = f"{_per_day_average(per_day, figure)} a day on average {over_window}"
        return Kpi(key, title, _count(today[figure]), split, average)

    return [
        by_source("messages", "Messages today", "user_messages"),
        by_source("active-users", "Active users today", "active_users"),
        by_source("tokens", "Tokens today", "tokens"),
        Kpi(
            "failed",
            "Failed replies today",
            _count(today["failed"]),
            f"{100 * today['error_rate']:.1f}% of {_count(today['finished'])} finished replies",
            f"{_count(statuses['in_flight'])} in flight now",
            href=links["failed"],
            alert=today["failed"] > 0,
        ),
        Kpi(
            "ttft",
            "Time to first token today (median)",
            _ms(latency["p50_ms"]),
            f"p95 {_ms(latency['p95_ms'])} · {_count(latency['measured'])} replies measured",
        ),
        Kpi(
            "feedback",
            "Feedback today",
            f"{_count(feedback['up'])} up · {_count(feedback['down'])} down",
            f"app {feedback['up_app']}/{feedback['down_app']} · API key {feedback['up_api']}/{feedback['down_api']}",
        ),
    ]


def _dataset(label: str, values: list, color: str, **extra) -> dict:
    return {"label": label, "data": values, "backgroundColor": color, "borderColor": color, **extra}


def _charts(data: dict) -> list[Chart]:
    per_day, latency = data["per_day"], data["latency_per_day"]
    labels = [date_format(row["day"], "M j") for row in per_day]
    days = len(labels)
    # unfold's own dataset options: the y axis is hidden unless asked for, ticks are thinned.
    axis = {"displayYAxis": True, "maxTicksXLimit": min(days, 15)}
    # Bars of one day on top of each other ("stack"); unfold draws bars thin, widen them a little.
    daily_bar = {"stack": "day", "maxBarThickness": 28 if days <= 7 else 14}

    def chart_data(chart_labels: list[str], *datasets: dict) -> str:
        return json.dumps({"labels": chart_labels, "datasets": list(datasets)})

    models = data["per_model"]
    return [
        Chart(
            "messages-per-day",
            "Messages per day",
            "bar",
            chart_data(
                labels,
                _dataset("App", [row["user_messages_app"] for row in per_day], APP_COLOR, **axis, **daily_bar),
                _dataset("API key", [row["user_messages_api"] for row in per_day], API_COLOR, **daily_bar),
            ),
            legend=[("App", APP_COLOR), ("API key", API_COLOR)],
            note="Messages sent by users, by source.",
            width="lg:col-span-2",
        ),
        Chart(
            "tokens-per-model",
            "Tokens per model",
            "bar",
            chart_data(
                [row["name"] for row in models],
                _dataset(
                    "App",
                    [row["prompt_tokens_app"] + row["completion_tokens_app"] for row in models],
                    APP_COLOR,
                    stack="model",
                    maxBarThickness=36,
                    displayYAxis=True,
                ),
                _dataset(
                    "API key",
                    [row["prompt_tokens_api"] + row["completion_tokens_api"] for row in models],
                    API_COLOR,
                    stack="model",
                    maxBarThickness=36,
                ),
            ),
            legend=[("App", APP_COLOR), ("API key", API_COLOR)],
            note="Prompt and completion tokens of the window's replies, busiest model first.",
        ),
        Chart(
            "active-users-per-day",
            "Active users per day",
            "line",
            chart_data(
                labels,
                _dataset("All", [row["active_users"] for row in per_day], APP_COLOR, **axis),
                _dataset("Through an API key", [row["active_users_api"] for row in per_day], API_COLOR),
            ),
            legend=[("All", APP_COLOR), ("Through an API key", API_COLOR)],
            note="Users who sent at least one message that day.",
        ),
        Chart(
            "ttft-per-day",
            "Time to first token per day",
            "line",
            chart_data(
                labels,
                _dataset("p50", [row["p50_ms"] for row in latency], P50_COLOR, suffixYAxis="ms", **axis),
                _dataset("p95", [row["p95_ms"] for row in latency], P95_COLOR),
            ),
            legend=[("Median (p50)", P50_COLOR), ("p95", P95_COLOR)],
            note="Of the day's replies that produced a token; no point on a day without any.",
        ),
        Chart(
            "error-rate-per-day",
            "Error rate per day",
            "bar",
            chart_data(
                labels,
                _dataset(
                    "Failed replies",
                    [round(100 * row["error_rate"], 1) for row in per_day],
                    ERROR_COLOR,
                    suffixYAxis="%",
                    **axis,
                    **daily_bar,
                ),
            ),
            legend=[("Failed (error or interrupted), % of finished replies", ERROR_COLOR)],
        ),
    ]


def _link(href: str, text: str) -> str:
    link_classes = "text-primary-600 whitespace-nowrap dark:text-primary-500"
    return format_html('<a class="{}" href="{}">{}</a>', link_classes, href, text)


def _top_users_table(rows: list[dict]) -> dict:
    return {
        "headers": ["User", "Plan", "Messages", "App", "API key"],
        "rows": [
            [
                format_html(
                    '<a href="{}">{}</a>', reverse("admin:accounts_user_change", args=[row["user_id"]]), row["email"]
                ),
                row["plan"] or "—",
                _count(row["messages"]),
                _count(row["messages_app"]),
                _count(row["messages_api"]),
            ]
            for row in rows
        ],
    }


def _failures_table(rows: list[dict]) -> dict:
    return {
        "headers": ["When", "Status", "Error code", "Model", "User", "Source"],
        "rows": [
            [
                _link(
                    reverse("admin:conversations_message_change", args=[row["message_id"]]),
                    date_format(timezone.localtime(row["created_at"]), "M j H:i"),
                ),
                row["status"],
                row["error_code"] or "—",
                row["model"],
                row["email"],
                "API key" if row["source"] == "api" else "App",
            ]
            for row in rows
        ],
    }


def admin_home_context(request, context):
    """``UNFOLD["DASHBOARD_CALLBACK"]``: what the admin home shows, as ``context["home"]``.

    Today's figures (cards), the window's series (charts) and who and what is busiest or failing
    (tables), from 7 queries of :func:`console.usage.usage_home_data` whatever the data.
    A ``days`` that is not one of the choices shows what is allowed instead of any figure.
    """
    raw = request.GET.get("days")
    days = parse_days(raw)
    links = _links(days)
    home: dict = {
        "days": days,
        "windows": [
            {"title": f"{choice} days", "link": f"?days={choice}", "active": choice == days}
            for choice in WINDOW_CHOICES
        ],
        "links": links,
        "time_zone": timezone.get_current_timezone_name(),
    }
    if days is None:
        home["days_error"] = _days_error(raw)
    else:
        data = usage_home_data(days=days)
        home.update(
            window=data["window"],
            kpis=_kpis(data, links),
            charts=_charts(data),
            top_users=_top_users_table(data["top_users"]),
            latest_failures=_failures_table(data["latest_failures"]),
        )
    context["home"] = home
    context["title"] = "Dashboard"  # the sidebar's name for this page, in the header and the tab
    return context
