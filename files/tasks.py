"""Background jobs of the files app (django-tasks; run by ``manage.py jobs_worker``)."""

from django_tasks import task

from .services import file_extract, files_sweep


@task()
def file_extract_job(file_id: str, language: str = "") -> dict:
    """Read an uploaded file's text pages (queued by ``services.file_create`` after commit), saying
    why it failed in ``language`` (the uploader's)."""
    stored = file_extract(file_id=file_id, language=language)
    if stored is None:
        return {"file": file_id, "status": "deleted"}
    return {"file": file_id, "status": stored.status, "error": stored.error, "pages": stored.pages}


@task()
def files_sweep_job() -> dict:
    """Re-queue (once) or fail extractions a stopped worker lost; remove blobs no row names
    (enqueued every few minutes by the job worker: ``jobs.periodic``)."""
    return files_sweep()
