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
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

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
    return _("“days” must be one of %(choices)s; got “%(value)s”.") % {
        "choices": ", ".join(str(choice) for choice in WINDOW_CHOICES),
        "value": raw[:20],
    }


def usage_dashboard(request):
    days = parse_days(request.GET.get("days"))
    context = {
        **admin.site.each_context(request),
        "title": _("Usage dashboard"),
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
    return "—" if value is None else _("%(ms)s ms") % {"ms": f"{value:,}"}


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

    def by_source(key: str, title: str, figure: str) -> Kpi:
        split = _("app %(app)s · API key %(api)s") % {
            "app": _count(today[f"{figure}_app"]),
            "api": _count(today[f"{figure}_api"]),
        }
        average = ngettext(
            "%(average)s a day on average over the last %(days)d day",
            "%(average)s a day on average over the last %(days)d days",
            days,
        ) % {"average": _per_day_average(per_day, figure), "days": days}
        return Kpi(key, title, _count(today[figure]), split, average)

    return [
        by_source("messages", _("Messages today"), "user_messages"),
        by_source("active-users", _("Active users today"), "active_users"),
        by_source("tokens", _("Tokens today"), "tokens"),
        Kpi(
            "failed",
            _("Failed replies today"),
            _count(today["failed"]),
            _("%(rate)s%% of %(finished)s finished replies")
            % {"rate": f"{100 * today['error_rate']:.1f}", "finished": _count(today["finished"])},
            _("%(count)s in flight now") % {"count": _count(statuses["in_flight"])},
            href=links["failed"],
            alert=today["failed"] > 0,
        ),
        Kpi(
            "ttft",
            _("Time to first token today (median)"),
            _ms(latency["p50_ms"]),
            _("p95 %(p95)s · %(count)s replies measured")
            % {"p95": _ms(latency["p95_ms"]), "count": _count(latency["measured"])},
        ),
        Kpi(
            "feedback",
            _("Feedback today"),
            _("%(up)s up · %(down)s down") % {"up": _count(feedback["up"]), "down": _count(feedback["down"])},
            _("app %(app_up)s/%(app_down)s · API key %(api_up)s/%(api_down)s")
            % {
                "app_up": feedback["up_app"],
                "app_down": feedback["down_app"],
                "api_up": feedback["up_api"],
                "api_down": feedback["down_api"],
            },
        ),
    ]


def _dataset(label: str, values: list, color: str, **extra) -> dict:
    return {"label": label, "data": values, "backgroundColor": color, "borderColor": color, **extra}


def _charts(data: dict) -> list[Chart]:
    per_day, latency = data["per_day"], data["latency_per_day"]
    # A date format is translated like any text (Django's own formats are): "Dec 6", "12월 6일".
    labels = [date_format(row["day"], pgettext("a day on a chart", "M j")) for row in per_day]
    days = len(labels)
    # unfold's own dataset options: the y axis is hidden unless asked for, ticks are thinned.
    axis = {"displayYAxis": True, "maxTicksXLimit": min(days, 15)}
    # Bars of one day on top of each other ("stack"); unfold draws bars thin, widen them a little.
    daily_bar = {"stack": "day", "maxBarThickness": 28 if days <= 7 else 14}

    def chart_data(chart_labels: list[str], *datasets: dict) -> str:
        return json.dumps({"labels": chart_labels, "datasets": list(datasets)})

    # Replies of models deleted from the catalog since have no bar: no model to name or act on.
    models = [row for row in data["per_model"] if not row["removed"]]
    app, api_key = _("App"), _("API key")
    return [
        Chart(
            "messages-per-day",
            _("Messages per day"),
            "bar",
            chart_data(
                labels,
                _dataset(app, [row["user_messages_app"] for row in per_day], APP_COLOR, **axis, **daily_bar),
                _dataset(api_key, [row["user_messages_api"] for row in per_day], API_COLOR, **daily_bar),
            ),
            legend=[(app, APP_COLOR), (api_key, API_COLOR)],
            note=_("Messages sent by users, by source."),
            width="lg:col-span-2",
        ),
        Chart(
            "tokens-per-model",
            _("Tokens per model"),
            "bar",
            chart_data(
                [row["name"] for row in models],
                _dataset(
                    app,
                    [row["prompt_tokens_app"] + row["completion_tokens_app"] for row in models],
                    APP_COLOR,
                    stack="model",
                    maxBarThickness=36,
                    displayYAxis=True,
                ),
                _dataset(
                    api_key,
                    [row["prompt_tokens_api"] + row["completion_tokens_api"] for row in models],
                    API_COLOR,
                    stack="model",
                    maxBarThickness=36,
                ),
            ),
            legend=[(app, APP_COLOR), (api_key, API_COLOR)],
            note=_("Prompt and completion tokens of the window's replies, busiest model first.")
            + _removed_note(data["per_model"]),
        ),
        Chart(
            "active-users-per-day",
            _("Active users per day"),
            "line",
            chart_data(
                labels,
                _dataset(_("All"), [row["active_users"] for row in per_day], APP_COLOR, **axis),
                _dataset(_("Through an API key"), [row["active_users_api"] for row in per_day], API_COLOR),
            ),
            legend=[(_("All"), APP_COLOR), (_("Through an API key"), API_COLOR)],
            note=_("Users who sent at least one message that day."),
        ),
        Chart(
            "ttft-per-day",
            _("Time to first token per day"),
            "line",
            chart_data(
                labels,
                _dataset("p50", [row["p50_ms"] for row in latency], P50_COLOR, suffixYAxis="ms", **axis),
                _dataset("p95", [row["p95_ms"] for row in latency], P95_COLOR),
            ),
            legend=[(_("Median (p50)"), P50_COLOR), ("p95", P95_COLOR)],
            note=_("Of the day's replies that produced a token; no point on a day without any."),
        ),
        Chart(
            "error-rate-per-day",
            _("Error rate per day"),
            "bar",
            chart_data(
                labels,
                _dataset(
                    _("Failed replies"),
                    [round(100 * row["error_rate"], 1) for row in per_day],
                    ERROR_COLOR,
                    suffixYAxis="%",
                    **axis,
                    **daily_bar,
                ),
            ),
            legend=[(_("Failed (error or interrupted), % of finished replies"), ERROR_COLOR)],
        ),
    ]


def _removed_note(per_model: list[dict]) -> str:
    removed = sum(row["replies"] for row in per_model if row["removed"])
    if not removed:
        return ""
    return " " + ngettext(
        "%(count)s reply of models removed from the catalog since is not shown.",
        "%(count)s replies of models removed from the catalog since are not shown.",
        removed,
    ) % {"count": _count(removed)}


def _link(href: str, text: str) -> str:
    link_classes = "text-primary-600 whitespace-nowrap dark:text-primary-500"
    return format_html('<a class="{}" href="{}">{}</a>', link_classes, href, text)


def _top_users_table(rows: list[dict]) -> dict:
    return {
        "headers": [_("User"), _("Plan"), _("Messages"), _("App"), _("API key")],
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


def _status_label(status: str) -> str:
    return {"error": _("error"), "interrupted": _("interrupted")}.get(status, status)


def _failures_table(rows: list[dict]) -> dict:
    return {
        "headers": [
            _("When (%(time_zone)s)") % {"time_zone": timezone.get_current_timezone_name()},
            _("Status"),
            _("Error code"),
            _("Model"),
            _("User"),
            _("Source"),
        ],
        "rows": [
            [
                _link(
                    reverse("admin:conversations_message_change", args=[row["message_id"]]),
                    date_format(timezone.localtime(row["created_at"]), pgettext("a failure's time", "M j H:i")),
                ),
                _status_label(row["status"]),
                row["error_code"] or "—",
                row["model"],
                row["email"],
                _("API key") if row["source"] == "api" else _("App"),
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
            {
                "title": ngettext("%(days)d day", "%(days)d days", choice) % {"days": choice},
                "link": f"?days={choice}",
                "active": choice == days,
            }
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
    context["title"] = _("Dashboard")  # the sidebar's name for this page, in the header and the tab
    return context
