"""Background jobs (django-tasks; ``manage.py db_worker`` runs them). Each takes the id of its
row, which holds everything else, and records its own outcome there: a job never raises."""

from django.conf import settings
from django.utils import translation
from django_tasks import task

from accounts.preferences import supported_language

from . import services


def _language(language: str) -> str:
    """The language the request that queued the job was answered in (what it writes for people
    is in it); ``LANGUAGE_CODE`` for a job queued without one."""
    return supported_language(language) or settings.LANGUAGE_CODE


@task()
def import_job(import_id: str, language: str = "") -> None:
    with translation.override(_language(language)):
        services.import_run(import_id=import_id)


@task()
def user_export_job(export_id: str, language: str = "") -> None:
    with translation.override(_language(language)):
        services.user_export_run(export_id=export_id)


@task()
def exports_purge_job() -> int:
    """Delete the files of expired user exports (each export job does it too); for a periodic run."""
    return services.exports_purge_expired()
