import logging

from django.db import transaction
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from jobs import periodic, workers

logger = logging.getLogger("jobs")


class Command(DbWorkerCommand):
    help = (
        "Run background jobs (django-tasks' database worker) with a heartbeat: jobs a killed worker "
        "left RUNNING are taken back (queued again, or failed after JOBS_MAX_ATTEMPTS), and periodic "
        "jobs are enqueued when due. Takes db_worker's options."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(worker_id=None, reload=False)

    def handle(self, *args, worker_id: str | None, reload: bool, **options):
        self.configure_logging(options["verbosity"])
        if reload:
            logger.warning("--reload is not supported by jobs_worker (a reloaded worker is a new worker); ignored")
        worker_id = worker_id or workers.new_worker_id()
        workers.worker_register(worker_id=worker_id)
        try:
            # The startup sweep: a worker restarted after a kill takes its old jobs back at once.
            with transaction.atomic():
                recovered = workers.orphans_recover()
            if recovered.requeued or recovered.failed:
                logger.warning(
                    "took back the jobs of dead workers: %d queued again, %d failed",
                    recovered.requeued,
                    recovered.failed,
                )
            if workers.is_leader(worker_id=worker_id):
                periodic.periodic_enqueue_due()
            housekeeper = workers.Housekeeper(worker_id=worker_id)
            housekeeper.start()
            try:
                super().handle(*args, worker_id=worker_id, reload=False, **options)
            finally:
                housekeeper.stop()
        finally:
            workers.worker_unregister(worker_id=worker_id)
