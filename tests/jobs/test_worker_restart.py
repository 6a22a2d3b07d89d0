"""Jobs survive the worker: queued while none runs, they run when one starts; a job whose worker
is killed mid-run (SIGKILL) is taken back by the next worker and completes. Real ``manage.py``
processes with django-tasks' database backend, on a database of the test's own."""

import json
import signal
import subprocess
import sys
import time

import pytest

from testsupport.servers import ROOT, manage, own_database, server_env

pytestmark = pytest.mark.slow

_STATE = (
    "import json; from django_tasks_db.models import DBTaskResult as R; from jobs.models import Worker as W; "
    "print(json.dumps({'jobs': {str(r.id): [r.status, r.worker_ids] for r in R.objects.all()}, "
    "'workers': list(W.objects.values_list('id', flat=True))}))"
)


def state(env) -> dict:
    return json.loads(manage(env, "shell", "-c", _STATE).strip().splitlines()[-1])


def enqueue(env, call: str) -> str:
    script = f"from tests.jobs import tasks; print(tasks.{call}.id)"
    return manage(env, "shell", "-c", script).strip().splitlines()[-1]


def start_worker(env, log) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", "jobs_worker", "--interval", "0.1", "--no-startup-delay"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_for(predicate, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_jobs_complete_across_a_killed_worker(tmp_path):
    quick, slow = tmp_path / "quick.txt", tmp_path / "slow.txt"
    with own_database(tmp_path, "jobs") as database_url, open(tmp_path / "worker.log", "ab") as log:
        env = server_env(database_url, tmp_path)
        manage(env, "migrate", "--noinput")
        # Queued while no worker runs: nothing happens, and nothing is lost.
        first = enqueue(env, f"note.enqueue({str(quick)!r}, 'one')")
        second = enqueue(env, f"slow_the_first_time.enqueue({str(slow)!r}, 60)")
        assert {job: status for job, (status, _) in state(env)["jobs"].items()} == {first: "READY", second: "READY"}

        worker = start_worker(env, log)
        try:
            wait_for(lambda: slow.exists() and "start" in slow.read_text(), what="the second job to start")
            jobs = state(env)["jobs"]
            assert jobs[first][0] == "SUCCESSFUL"
            assert jobs[second][0] == "RUNNING"
            killed_worker = jobs[second][1][-1]
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)

        # The backend alone never moves it on: RUNNING, its worker dead.
        after_kill = state(env)
        assert after_kill["jobs"][second][0] == "RUNNING"
        assert killed_worker in after_kill["workers"]
        # Nor does django-tasks-db's own worker, which takes READY rows only: it would stay so for ever.
        manage(env, "db_worker", "--batch", "--no-startup-delay", "--interval", "0")
        assert state(env)["jobs"][second][0] == "RUNNING"

        worker = start_worker(env, log)
        try:
            wait_for(lambda: state(env)["jobs"][second][0] == "SUCCESSFUL", what="the second job to complete")
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(15)

        jobs = state(env)["jobs"]
        assert jobs[first][0] == "SUCCESSFUL"
        status, worker_ids = jobs[second]
        assert status == "SUCCESSFUL"
        assert len(worker_ids) == 2 and worker_ids[0] == killed_worker  # claimed twice: killed, then done
        assert quick.read_text() == "one\n"
        assert slow.read_text() == "start\nstart\ndone\n"  # run again from the start, finished once
        # A worker stopped with SIGTERM finishes and leaves the list; the killed one was forgotten.
        assert state(env)["workers"] == []
