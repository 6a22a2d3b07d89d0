"""Job workers that can die: heartbeats, and taking back the jobs of a dead one.

django-tasks' database backend (``django_tasks_db``) claims a job by marking its row RUNNING with
the worker's id, and nothing but that worker ever moves it on (to SUCCESSFUL or FAILED). A worker
killed mid-job (SIGKILL, OOM killer, power loss) leaves the row RUNNING for ever: no other worker
looks at it again (they only take READY rows), and the admin shows a job running that nobody runs.

So each ``manage.py jobs_worker`` registers a ``Worker`` row and beats it every
``JOBS_WORKER_HEARTBEAT_SECONDS`` (10) from a thread of its own. A worker is dead when its heartbeat
is older than ``JOBS_WORKER_DEAD_AFTER_SECONDS`` (60), or at once when it ran on this host and its
process is gone (a restart after a kill does not wait a minute). Every worker, when it starts and
then every ``sweep_seconds``, takes back the jobs a dead worker left RUNNING: back to READY, to run
again from the start, up to ``JOBS_MAX_ATTEMPTS`` (3) claims in all; a job whose workers died that
many times is marked FAILED (``WorkerLost``) instead of killing workers for ever. Jobs must
therefore be safe to run again (ours are: they check their own row or delete by criteria). Rows
claimed by anything else (a plain ``db_worker``, which has no heartbeat) are never touched.

The same design as Solid Queue's process heartbeats (Rails), which fails the claimed jobs of a
pruned process; here a job gets its retries first, as most interrupted jobs were not the cause.
"""

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .models import Worker

logger = logging.getLogger(__name__)


class WorkerLost(Exception):
    """The worker running a job stopped (killed or crashed) before finishing it."""


def heartbeat_seconds() -> float:
    return settings.JOBS_WORKER_HEARTBEAT_SECONDS


def dead_after() -> timedelta:
    return timedelta(seconds=settings.JOBS_WORKER_DEAD_AFTER_SECONDS)


def max_attempts() -> int:
    return settings.JOBS_MAX_ATTEMPTS


def new_worker_id() -> str:
    """Unique across hosts and restarts, readable in the admin: ``host-pid-random``."""
    suffix = f"-{os.getpid()}-{get_random_string(8)}"
    return socket.gethostname()[: 64 - len(suffix)] + suffix


def worker_register(*, worker_id: str) -> Worker:
    now = timezone.now()
    worker, _ = Worker.objects.update_or_create(
        pk=worker_id,
        defaults={"hostname": socket.gethostname()[:255], "pid": os.getpid(), "seen_at": now},
        create_defaults={"hostname": socket.gethostname()[:255], "pid": os.getpid(), "started_at": now, "seen_at": now},
    )
    return worker


def worker_beat(*, worker_id: str) -> None:
    if not Worker.objects.filter(pk=worker_id).update(seen_at=timezone.now()):
        # Taken for dead by another worker's sweep (a long stall): alive after all, so back on the
        # list; the jobs it was given up on may run twice, which jobs must tolerate.
        logger.warning("job worker %s was taken for dead; registering again", worker_id)
        worker_register(worker_id=worker_id)


def worker_unregister(*, worker_id: str) -> None:
    Worker.objects.filter(pk=worker_id).delete()


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process holds that pid now: not ours, and alive
        return False
    return False


def worker_is_dead(worker: Worker, *, now: datetime) -> bool:
    if worker.seen_at < now - dead_after():
        return True
    # A worker of this host whose process is gone is dead now, whatever its last heartbeat says.
    return worker.hostname == socket.gethostname()[:255] and worker.pid != os.getpid() and _process_gone(worker.pid)


@dataclass(frozen=True)
class Recovered:
    requeued: int
    failed: int


def orphans_recover(*, now: datetime | None = None) -> Recovered:
    """Take back the RUNNING jobs of dead workers: READY again, or FAILED after too many attempts."""
    now = now or timezone.now()
    dead = {w.pk for w in Worker.objects.all() if worker_is_dead(w, now=now)}
    if not dead:
        return Recovered(0, 0)
    requeued = failed = 0
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).only("id", "worker_ids", "started_at")
    for row in running:
        if not row.worker_ids or row.worker_ids[-1] not in dead:
            continue  # a live worker's, or claimed by a worker without heartbeats: not ours to judge
        attempts = len(row.worker_ids)
        # Conditional on the claim we saw, so a row that moved meanwhile is left alone.
        claimed = DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING, started_at=row.started_at)
        if attempts < max_attempts():
            if claimed.update(status=TaskResultStatus.READY, started_at=None):
                requeued += 1
                logger.warning(
                    "job %s: its worker %s died; queued again (attempt %d)", row.pk, row.worker_ids[-1], attempts + 1
                )
        else:
            reason = (
                f"{WorkerLost.__module__}.{WorkerLost.__qualname__}: the worker running this job stopped before it "
                f"finished, {attempts} times (workers {', '.join(row.worker_ids)}); not tried again.\n"
            )
            done = claimed.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                traceback=reason,
                return_value=None,
            )
            if done:
                failed += 1
                logger.error("job %s: its workers died %d times; marked failed", row.pk, attempts)
    # Every job the dead workers held is settled: forget them.
    Worker.objects.filter(pk__in=dead).delete()
    return Recovered(requeued, failed)


def is_leader(*, worker_id: str, now: datetime | None = None) -> bool:
    """Whether this worker is the oldest live one (the one that enqueues periodic jobs)."""
    now = now or timezone.now()
    oldest = Worker.objects.filter(seen_at__gte=now - dead_after()).order_by("started_at", "id").first()
    return oldest is not None and oldest.pk == worker_id


class Housekeeper(threading.Thread):
    """The worker's heartbeat, and every ``sweep_seconds`` the dead workers' jobs taken back and the
    periodic jobs that are due enqueued (by the oldest live worker). A thread of its own, so a long
    job never stops the heartbeat."""

    def __init__(self, *, worker_id: str, sweep_seconds: float | None = None):
        super().__init__(name=f"jobs-housekeeper-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.beat_seconds = heartbeat_seconds()
        self.sweep_seconds = sweep_seconds or max(self.beat_seconds, min(30.0, dead_after().total_seconds() / 2))
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(self.beat_seconds + 5)

    def run(self) -> None:
        from .periodic import periodic_enqueue_due

        last_sweep = timezone.now()
        try:
            while not self._stop_event.wait(self.beat_seconds):
                try:
                    close_old_connections()
                    worker_beat(worker_id=self.worker_id)
                    if (timezone.now() - last_sweep).total_seconds() >= self.sweep_seconds:
                        last_sweep = timezone.now()
                        with transaction.atomic():
                            orphans_recover()
                        if is_leader(worker_id=self.worker_id):
                            periodic_enqueue_due()
                except Exception:  # a database hiccup must not end the heartbeat
                    logger.warning("job worker housekeeping failed", exc_info=True)
        finally:
            connections.close_all()
