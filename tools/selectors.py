"""Which tools a user may enable, and what a reply's tools are made of (reads only)."""

from datetime import UTC, datetime, time

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import UserSettings

from .mcp_client import ServerSpec
from .models import WEB_SEARCH, ToolCall, ToolServer

WEB_SEARCH_DESCRIPTION = "Search the web for current information; returns numbered results with their URLs."


def web_search_on() -> bool:
    return bool(settings.TOOLS["WEB_SEARCH_URL"])


def _plan_id(user) -> int | None:
    return UserSettings.objects.filter(user=user).values_list("plan_id", flat=True).first()


def servers_allowed(*, user):
    """The enabled servers this user's plan may use (a server limited to no plan: every plan)."""
    plan_id = _plan_id(user)
    return (
        ToolServer.objects.filter(enabled=True)
        .filter(Q(plans__isnull=True) | Q(plans=plan_id))
        .distinct()
        .order_by("name")
    )


def web_search_listing() -> dict:
    return {
        "name": WEB_SEARCH,
        "kind": "web_search",
        "title": _("Web search"),
        "description": _("Searches the web and cites the pages it used."),
        "tools": [{"name": WEB_SEARCH, "description": WEB_SEARCH_DESCRIPTION}],
    }


def tools_available(*, user) -> list[dict]:
    """``GET /tools``: what this user may enable in a chat, each with the tools it offers (as the
    server last listed them: nothing is called to answer this)."""
    listing = [
        {
            "name": server.name,
            "kind": "mcp",
            "title": server.title or server.name,
            "description": server.description,
            "tools": [{"name": tool["name"], "description": tool.get("description", "")} for tool in server.tools],
        }
        for server in servers_allowed(user=user)
    ]
    if web_search_on():
        listing.append(web_search_listing())
    return listing


def _enableable(user) -> set[str]:
    allowed = set(servers_allowed(user=user).values_list("name", flat=True))
    if web_search_on():
        allowed.add(WEB_SEARCH)
    return allowed


def tools_allowed(*, user, names) -> list[str]:
    """Of ``names``, those ``user`` may enable, once each, in order (an import keeps only these)."""
    allowed = _enableable(user)
    return [name for name in dict.fromkeys(names) if isinstance(name, str) and name in allowed]


def tools_problem(*, user, names) -> str | None:
    """Why a chat of ``user`` cannot have the tools ``names`` (None if it can)."""
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        return _("Give a list of tool names.")
    if len(names) > 50:
        return _("A chat may enable at most 50 tools.")
    allowed = _enableable(user)
    unknown = [name for name in names if name not in allowed]
    if unknown:
        return _("Not a tool you may enable: %(names)s (GET /api/v1/tools lists them).") % {
            "names": ", ".join(sorted(set(unknown)))[:300]
        }
    return None


def reply_servers(*, user, names) -> tuple[list[ServerSpec], bool]:
    """The servers a reply may call (of the chat's ``names``, those still allowed) and whether it
    may search the web."""
    wanted = set(names or [])
    specs = [
        ServerSpec(server.name, server.url, tuple(server.headers or []), server.timeout_seconds, server.private)
        for server in servers_allowed(user=user).filter(name__in=wanted)
    ]
    return specs, WEB_SEARCH in wanted and web_search_on()


def private_server_names() -> set[str]:
    return set(ToolServer.objects.filter(private=True).values_list("name", flat=True))


def calls_today(*, user_id) -> int:
    start = datetime.combine(timezone.now().astimezone(UTC).date(), time.min, tzinfo=UTC)
    return ToolCall.objects.filter(user_id=user_id, created_at__gte=start).count()
