"""Background jobs (django-tasks; ``manage.py db_worker`` runs them). Each takes the id of its
row, which holds everything else, and records its own outcome there: a job never raises."""

from django_tasks import task

from . import services


@task()
def import_job(import_id: str) -> None:
    services.import_run(import_id=import_id)


@task()
def user_export_job(export_id: str) -> None:
    services.user_export_run(export_id=export_id)


@task()
def exports_purge_job() -> int:
    """Delete the files of expired user exports (each export job does it too); for a periodic run."""
    return services.exports_purge_expired()
