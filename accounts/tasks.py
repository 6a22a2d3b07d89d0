"""Background jobs of the accounts app (django-tasks; run by ``manage.py jobs_worker``)."""

from datetime import timedelta

from django_tasks import task

from .services import expired_tokens_purge, revoked_devices_purge

REVOKED_DEVICES_KEPT_DAYS = 90  # as `manage.py purge_expired_tokens` keeps them by default


@task()
def sessions_purge_expired() -> dict:
    """Delete expired refresh tokens and device sessions revoked over 90 days ago (enqueued daily
    by the job worker: ``jobs.periodic``); what ``manage.py purge_expired_tokens`` does."""
    tokens = expired_tokens_purge()
    devices = revoked_devices_purge(older_than=timedelta(days=REVOKED_DEVICES_KEPT_DAYS))
    return {"expired_tokens": tokens, "revoked_devices": devices}
