"""Background jobs: django-tasks and the job worker's heartbeats."""

from .env import env

# --- Background jobs (django-tasks, the backport of Django 6's tasks) ---------------------------
# Imports, exports and purges run in the worker process (`manage.py jobs_worker`, started by
# `make serve`), never in a web request; jobs are rows, so they wait out a worker restart.
TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# Job workers beat every JOBS_WORKER_HEARTBEAT_SECONDS; one silent for JOBS_WORKER_DEAD_AFTER_SECONDS
# (or gone from this host) is dead, and the jobs it was running run again, up to JOBS_MAX_ATTEMPTS
# claims in all, then fail (jobs/workers.py).
JOBS_WORKER_HEARTBEAT_SECONDS = env.float("JOBS_WORKER_HEARTBEAT_SECONDS", default=10.0)
JOBS_WORKER_DEAD_AFTER_SECONDS = env.float("JOBS_WORKER_DEAD_AFTER_SECONDS", default=60.0)
JOBS_MAX_ATTEMPTS = env.int("JOBS_MAX_ATTEMPTS", default=3)
