"""Staff actions in the audit trail (django-auditlog).

Saves of tracked models are logged by auditlog itself. The admin's bulk actions write with
UPDATE statements (one query for many rows, no save signals), so they record themselves here:
one entry per row, with the actor the admin site set (console.site.ConsoleAdminSite).
"""

from auditlog.models import LogEntry


def record_staff_action(instances, *, action: str, changes: dict[str, list] | None = None) -> int:
    """Log ``action`` (e.g. "reset today's quota") on each instance; ``changes`` maps a field to
    ``[old, new]``. Returns how many entries were written."""
    written = 0
    for instance in instances:
        LogEntry.objects.log_create(
            instance,
            force_log=True,
            action=LogEntry.Action.UPDATE,
            changes=changes or {},
            additional_data={"staff_action": action},
        )
        written += 1
    return written


def mask_whole(value: str) -> str:
    """``AUDITLOG_MASK_CALLABLE``: a masked field (a secret) is recorded as changed, with none of
    its characters (auditlog's default keeps half of them)."""
    return "********"
