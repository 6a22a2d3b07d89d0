"""Background jobs of the conversations app (django-tasks; run by ``manage.py jobs_worker``)."""

import logging

from django_tasks import task

from . import retention

logger = logging.getLogger(__name__)


@task()
def conversations_purge_expired() -> dict:
    """Delete the conversations past ``CHAT_RETENTION_DAYS`` (enqueued daily by the job worker
    when it is set: ``jobs.periodic``). Safe to run again: it deletes by age, whatever ran before."""
    purged = retention.purge_by_setting()
    if purged is None:
        return {"retention_days": 0, "conversations": 0, "messages": 0}
    logger.info("retention: deleted %d conversations (%d messages)", purged.conversations, purged.messages)
    return {
        "retention_days": retention.retention_age().days,
        "conversations": purged.conversations,
        "messages": purged.messages,
    }
