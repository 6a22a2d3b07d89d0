"""Writes of the tools app: servers (the admin, ``tool_server_add``), their listings, the calls."""

from django.db import transaction
from django.utils import timezone

from accounts.models import UserSettings

from .models import CallStatus, ToolCall, ToolServer
from .selectors import calls_today


@transaction.atomic
def tool_server_add(
    *,
    name: str,
    url: str,
    headers: list[dict] | None = None,
    title: str | None = None,
    description: str | None = None,
    private: bool | None = None,
    timeout_seconds: float | None = None,
) -> tuple[ToolServer, bool]:
    """Register an MCP server, or update the one with this name (only what is given changes; the
    headers given replace the row's). The admin's rules apply (``full_clean``). Returns (server, created)."""
    server = ToolServer.objects.select_for_update().filter(name=name).first()
    created = server is None
    if created:
        server = ToolServer(name=name)
    server.url = url
    given = {
        "headers": headers,
        "title": title,
        "description": description,
        "private": private,
        "timeout_seconds": timeout_seconds,
    }
    for field, value in given.items():
        if value is not None:
            setattr(server, field, value)
    server.full_clean()
    server.save()  # auditlog records it (config/settings/parts/console.py)
    return server, created


def tool_server_listing_save(*, server_name: str, tools: list[dict]) -> None:
    """What the server listed (Test connection, a reply): ``GET /tools`` shows it."""
    ToolServer.objects.filter(name=server_name).update(tools=tools, listed_at=timezone.now())


def tool_call_begin(*, user_id, message_id, call_id: str, server: str, tool: str) -> ToolCall | None:
    """Record a call about to run; None (nothing recorded) when the user's plan has no calls left today.

    The count and the insert hold the user's settings row (as a send does): two replies of one
    user, on two of a process's background threads or in two processes, cannot both take the
    last call of the day."""
    with transaction.atomic():
        plan = (
            UserSettings.objects.select_for_update(of=("self",))
            .filter(user_id=user_id)
            .select_related("plan")
            .values_list("plan_id", "plan__daily_tool_call_limit")
            .first()
        )
        plan_id, limit = plan if plan else (None, 0)
        if limit and calls_today(user_id=user_id) >= limit:
            return None
        return ToolCall.objects.create(
            user_id=user_id,
            plan_id=plan_id,
            server=server,
            tool=tool[:128],
            message_id=message_id,
            call_id=call_id[:100],
        )


def tool_call_end(*, call_pk: int, status: str, duration_ms: int | None) -> None:
    ToolCall.objects.filter(pk=call_pk, status=CallStatus.RUNNING).update(status=status, duration_ms=duration_ms)


def tool_calls_interrupt(*, message_id, status: str = CallStatus.INTERRUPTED) -> None:
    """A reply that ended with calls still running (stopped, a crash, the reaper): they end as
    ``status`` and are never run again."""
    ToolCall.objects.filter(message_id=message_id, status=CallStatus.RUNNING).update(status=status)
