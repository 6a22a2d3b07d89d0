from django.db import models
from django.utils import timezone


class Worker(models.Model):
    """A job worker process (``manage.py jobs_worker``) as its last heartbeat saw it.

    django-tasks' database backend marks a job RUNNING when a worker claims it and nothing else
    until that worker finishes it: a worker that is killed leaves it RUNNING for ever. These rows
    tell a dead worker from a live one, so its jobs can be taken back (``jobs.workers``).
    """

    id = models.CharField(primary_key=True, max_length=64, help_text="The id it claims jobs with.")
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("started_at", "id")

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid}"
