"""Background jobs of the accounts app (django-tasks; run by ``manage.py jobs_worker``)."""

from datetime import timedelta

from django_tasks import task

from .services import expired_tokens_purge, mail_deliver, registration_notice_send, revoked_devices_purge

REVOKED_DEVICES_KEPT_DAYS = 90  # as `manage.py purge_expired_tokens` keeps them by default


@task()
def sessions_purge_expired() -> dict:
    """Delete expired refresh tokens and device sessions revoked over 90 days ago (enqueued daily
    by the job worker: ``jobs.periodic``); what ``manage.py purge_expired_tokens`` does."""
    tokens = expired_tokens_purge()
    devices = revoked_devices_purge(older_than=timedelta(days=REVOKED_DEVICES_KEPT_DAYS))
    return {"expired_tokens": tokens, "revoked_devices": devices}


@task()
def registration_notice_job(user_id: int, site_url: str, language: str | None = None) -> None:
    """Mail an account's owner that someone tried to register its email: queued by
    ``services.user_register``, so the request answers in the same time whether the email was
    taken or not, and a slow mail server holds no request."""
    registration_notice_send(user_id=user_id, site_url=site_url, language=language)


@task()
def mail_deliver_job(message: dict) -> None:
    """Send a mail rendered in a request (``services.mail_deliver_later``): the request answers in
    the same time whoever it mails, and a slow mail server holds no request."""
    mail_deliver(message=message)
