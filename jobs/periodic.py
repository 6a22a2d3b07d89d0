"""Jobs that run on a period, enqueued by the oldest live job worker when they are due.

django-tasks has no scheduler of its own. A job here is due when none of its runs was enqueued
within its period and none is waiting or running, so however many workers there are and however
often they look, it runs about once a period (a worker that was down catches up once, not once
per missed period). A job whose ``enabled`` says no (say, no retention is configured) is not
enqueued at all, so the job list shows no runs that had nothing to do.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult


def _retention_configured() -> bool:
    from conversations.retention import retention_age

    return retention_age() is not None


@dataclass(frozen=True)
class Periodic:
    task_path: str  # "module.function" of a django-tasks task
    every: timedelta
    enabled: Callable[[], bool] = lambda: True


PERIODIC = (
    # Conversations past CHAT_RETENTION_DAYS (when set).
    Periodic("conversations.tasks.conversations_purge_expired", timedelta(days=1), _retention_configured),
    # Expired refresh tokens and long-revoked device sessions.
    Periodic("accounts.tasks.sessions_purge_expired", timedelta(days=1)),
    # The files of user exports past their expiry (PORTABILITY_EXPORT_DAYS).
    Periodic("portability.tasks.exports_purge_job", timedelta(days=1)),
    # Extractions a stopped worker lost (queued once more, then failed), and blobs no row names.
    Periodic("files.tasks.files_sweep_job", timedelta(minutes=10)),
)


def periodic_due(periodic: Periodic, *, now=None) -> bool:
    now = now or timezone.now()
    runs = DBTaskResult.objects.filter(task_path=periodic.task_path)
    pending = Q(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
    return not runs.filter(pending | Q(enqueued_at__gte=now - periodic.every)).exists()


def periodic_enqueue_due(*, now=None, jobs=PERIODIC) -> list[str]:
    """Enqueue every enabled periodic job that is due; returns their task paths."""
    enqueued = []
    for periodic in jobs:
        if periodic.enabled() and periodic_due(periodic, now=now):
            import_string(periodic.task_path).enqueue()
            enqueued.append(periodic.task_path)
    return enqueued
