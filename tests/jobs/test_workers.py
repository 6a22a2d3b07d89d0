"""Taking back the jobs of dead workers, and the periodic jobs, on the test database (rows made
directly; the real worker processes have their own test, test_worker_restart.py)."""

import os
import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from jobs import periodic, workers
from jobs.models import Worker

pytestmark = pytest.mark.django_db

DEAD_PID = 2**22 + 12345  # above Linux's pid_max default: no process has it


@pytest.fixture
def db_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def a_worker(worker_id: str, *, seen_ago: float = 0, hostname: str | None = None, pid: int | None = None) -> Worker:
    now = timezone.now()
    return Worker.objects.create(
        pk=worker_id,
        hostname=hostname or socket.gethostname(),
        pid=pid or os.getpid(),
        started_at=now - timedelta(seconds=seen_ago + 1),
        seen_at=now - timedelta(seconds=seen_ago),
    )


def a_running_job(*worker_ids: str) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="tests.jobs.tasks.note",
        backend_name="default",
        run_after=get_date_max(),
        started_at=timezone.now(),
        worker_ids=list(worker_ids),
    )


def status_of(job: DBTaskResult) -> str:
    job.refresh_from_db()
    return job.status


def test_a_silent_worker_is_dead_and_its_job_runs_again():
    a_worker("silent", seen_ago=120, hostname="elsewhere", pid=1)
    job = a_running_job("silent")

    assert workers.orphans_recover() == workers.Recovered(requeued=1, failed=0)

    job.refresh_from_db()
    assert job.status == TaskResultStatus.READY
    assert job.started_at is None
    assert job.worker_ids == ["silent"]  # the attempts so far stay on the row
    assert not Worker.objects.filter(pk="silent").exists()


def test_a_worker_of_this_host_whose_process_is_gone_is_dead_at_once():
    a_worker("killed", seen_ago=1, pid=DEAD_PID)  # beat a second ago, but its process is gone
    job = a_running_job("killed")
    assert workers.orphans_recover().requeued == 1
    assert status_of(job) == TaskResultStatus.READY


def test_live_workers_and_unknown_workers_keep_their_jobs():
    a_worker("alive", seen_ago=5)  # this very process: alive
    a_worker("remote", seen_ago=5, hostname="elsewhere", pid=DEAD_PID)  # another host: heartbeat decides
    mine, remote, plain = a_running_job("alive"), a_running_job("remote"), a_running_job("plain-db-worker")

    assert workers.orphans_recover() == workers.Recovered(0, 0)
    assert [status_of(j) for j in (mine, remote, plain)] == [TaskResultStatus.RUNNING] * 3


def test_a_job_whose_workers_keep_dying_fails_instead_of_looping(settings):
    settings.JOBS_MAX_ATTEMPTS = 3
    a_worker("third", seen_ago=300, hostname="elsewhere")
    job = a_running_job("first", "second", "third")

    assert workers.orphans_recover() == workers.Recovered(requeued=0, failed=1)

    job.refresh_from_db()
    assert job.status == TaskResultStatus.FAILED
    assert job.finished_at is not None
    assert job.exception_class_path == "jobs.workers.WorkerLost"
    assert "3 times" in job.traceback
    assert job.task_result.errors[0].exception_class_path == "jobs.workers.WorkerLost"


def test_a_job_that_moved_meanwhile_is_left_alone(monkeypatch):
    a_worker("gone", seen_ago=300, hostname="elsewhere")
    job = a_running_job("gone")
    # It finished between the sweep's read and its update: the conditional update misses.
    original = workers.DBTaskResult.objects.filter

    def finished_first(*args, **kwargs):
        if "pk" in kwargs:  # the conditional update, after the RUNNING row was read
            DBTaskResult.objects.all().update(status=TaskResultStatus.SUCCESSFUL)
        return original(*args, **kwargs)

    monkeypatch.setattr(workers.DBTaskResult.objects, "filter", finished_first)
    assert workers.orphans_recover() == workers.Recovered(0, 0)
    assert status_of(job) == TaskResultStatus.SUCCESSFUL


def test_the_heartbeat_brings_back_a_worker_taken_for_dead():
    workers.worker_beat(worker_id="back")
    worker = Worker.objects.get(pk="back")
    assert (worker.pid, worker.hostname) == (os.getpid(), socket.gethostname())


def test_the_oldest_live_worker_leads():
    a_worker("old-but-dead", seen_ago=600, hostname="elsewhere")
    a_worker("old", seen_ago=2)
    Worker.objects.filter(pk="old").update(started_at=timezone.now() - timedelta(hours=1))
    a_worker("young", seen_ago=1)
    assert workers.is_leader(worker_id="old")
    assert not workers.is_leader(worker_id="young")


def test_worker_ids_fit_the_backend():
    worker_id = workers.new_worker_id()
    assert len(worker_id) <= 64 and str(os.getpid()) in worker_id


# --- periodic jobs ------------------------------------------------------------------------------


def test_a_periodic_job_is_enqueued_once_per_period(db_tasks):
    job = periodic.Periodic("tests.jobs.tasks.note", timedelta(days=1))
    # note() takes arguments; a periodic job takes none, but enqueueing is all that is tested here.
    assert periodic.periodic_due(job)
    DBTaskResult.objects.create(
        status=TaskResultStatus.SUCCESSFUL,
        args_kwargs={"args": [], "kwargs": {}},
        task_path=job.task_path,
        backend_name="default",
        run_after=get_date_max(),
    )
    assert not periodic.periodic_due(job)
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(days=2))
    assert periodic.periodic_due(job)
    DBTaskResult.objects.update(status=TaskResultStatus.READY)  # waiting: not again
    assert not periodic.periodic_due(job)


def test_due_jobs_are_enqueued_and_disabled_ones_are_not(db_tasks, settings):
    settings.CHAT = {**settings.CHAT, "RETENTION_DAYS": 0}
    always = [
        "accounts.tasks.sessions_purge_expired",
        "portability.tasks.exports_purge_job",
        "files.tasks.files_sweep_job",
    ]
    assert periodic.periodic_enqueue_due() == always
    assert periodic.periodic_enqueue_due() == []  # not due again today
    settings.CHAT = {**settings.CHAT, "RETENTION_DAYS": 30}
    assert periodic.periodic_enqueue_due() == ["conversations.tasks.conversations_purge_expired"]
    assert set(DBTaskResult.objects.values_list("task_path", flat=True)) == {
        *always,
        "conversations.tasks.conversations_purge_expired",
    }


def test_every_periodic_job_is_a_task_without_arguments():
    import inspect

    from django.utils.module_loading import import_string
    from django_tasks.base import Task

    for job in periodic.PERIODIC:
        task = import_string(job.task_path)
        assert isinstance(task, Task)
        assert task.module_path == job.task_path  # the path its rows are found by
        assert not inspect.signature(task.func).parameters
