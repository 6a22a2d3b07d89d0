"""Writes for imports and exports: keyword-only entry points for the API, the commands and the
admin. A request only stores an upload (or a row) and enqueues the job after commit; the jobs
(``tasks.py``, run by ``manage.py db_worker``) do the work."""

import logging
import os
import tempfile
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User

from . import archive, conf, selectors, sources
from .data import FileError
from .exceptions import ExportExpired, ExportNotReady, ImportTooLarge, TooManyImports
from .importing import ImportRun, Progress
from .models import Export, ExportStatus, Import, JobStatus

logger = logging.getLogger(__name__)

# An export asked for while another of the same user's is still queued or running, and younger than
# this, is that one (clicking twice makes one zip; a job lost with a dead worker does not block).
EXPORT_REUSE_WINDOW = timedelta(hours=1)
# Uploads wait on disk for the worker: a user has at most this many imports queued or running
# (counting those of the last day, so one lost with a dead worker does not block for ever).
MAX_IMPORTS_IN_FLIGHT = 3
IN_FLIGHT_WINDOW = timedelta(days=1)
# Runs of one import: the first, and one more if a worker stopped during it (a restart, a deploy).
# A worker stopped twice by the same import is likely stopped by its file: it is not run a third
# time (the job system alone would, up to JOBS_MAX_ATTEMPTS).
MAX_IMPORT_RUNS = 2


def _enqueue(job, model, row_id, *, what: str) -> None:
    """Queue ``job`` for the row (an Import or an Export: both say "queued" and "failed"); a row
    whose job cannot be queued ends failed, saying so."""
    try:
        # The language of the request (its user's saved one, else the browser's): what the job
        # writes for people (why it failed, each entry's error) is written in it.
        result = job.enqueue(str(row_id), translation.get_language() or "")
    except Exception:
        logger.exception("%s %s could not be queued", what, row_id)
        model.objects.filter(pk=row_id, status="queued").update(
            status="failed",
            error=_("The import could not be queued; try again.")
            if what == "import"
            else _("The export could not be queued; try again."),
            finished_at=timezone.now(),
        )
        return
    model.objects.filter(pk=row_id).update(task_id=result.id)


def _enqueue_import(import_id) -> None:
    from .tasks import import_job

    _enqueue(import_job, Import, import_id, what="import")


def _enqueue_export(export_id) -> None:
    from .tasks import user_export_job

    _enqueue(user_export_job, Export, export_id, what="export")


# --- imports -------------------------------------------------------------------------------------


_FRESH_COUNTS = {
    "conversations_total": None,
    "conversations_imported": 0,
    "conversations_skipped": 0,
    "conversations_failed": 0,
    "messages_imported": 0,
    "items_imported": 0,
    "items_skipped": 0,
    "todos_imported": 0,
    "todos_skipped": 0,
    "errors": [],
}


def import_size_check(size: int | None) -> None:
    limit = conf.max_import_bytes()
    if size is not None and size > limit:
        raise ImportTooLarge(
            _("The file is too large (%(size)d bytes); the limit is %(limit)d bytes.") % {"size": size, "limit": limit}
        )


@transaction.atomic
def import_start(*, user: User, upload) -> Import:
    """Store the upload and queue its import (``ValidationError`` on ``file`` when it is plainly
    not an export; ``ImportTooLarge`` over the limit; ``TooManyImports`` while the user already has
    ``MAX_IMPORTS_IN_FLIGHT`` waiting)."""
    import_size_check(upload.size)
    in_flight = selectors.imports_of(user=user).filter(
        status__in=(JobStatus.QUEUED, JobStatus.RUNNING), created_at__gte=timezone.now() - IN_FLIGHT_WINDOW
    )
    if in_flight.count() >= MAX_IMPORTS_IN_FLIGHT:
        raise TooManyImports(
            _("You have %(count)d imports waiting or running; upload more once they are done.")
            % {"count": MAX_IMPORTS_IN_FLIGHT}
        )
    try:
        sources.sniff(upload)
    except FileError as exc:
        raise ValidationError({"file": [str(exc)]}) from exc
    row = Import(owner=user, file_name=os.path.basename(upload.name or "")[:255], file_size=upload.size or 0)
    row.file.save("upload", upload, save=False)
    try:
        row.save()
    except BaseException:
        row.file.storage.delete(row.file.name)  # the row will not exist, so neither may its file
        raise
    transaction.on_commit(lambda: _enqueue_import(row.pk))
    return row


def _finish_failed(row: Import, error: str) -> None:
    row.status, row.error, row.finished_at = JobStatus.FAILED, error, timezone.now()
    Import.objects.filter(pk=row.pk).update(
        status=row.status, error=row.error, finished_at=row.finished_at, updated_at=row.finished_at
    )


def _import_from(row: Import, fileobj, progress: Progress | None) -> Import:
    deadline = conf.import_deadline()
    try:
        source = sources.read_source(fileobj, deadline=deadline)
    except FileError as exc:
        _finish_failed(row, str(exc))
        return row
    try:
        return ImportRun(row, source, progress, deadline=deadline).run()
    finally:
        source.close()


def import_run(*, import_id, progress: Progress | None = None) -> Import | None:
    """The job: read the stored upload and import it. Runs once (a queued import is claimed); the
    upload is deleted when it ends, whatever the outcome. Whatever goes wrong with the file ends
    the import ``failed`` with its ``error``: the job itself never fails, so it is never retried."""
    now = timezone.now()
    # A running one too: a job handed out again after its worker died starts over, and what that
    # worker had imported is skipped as already there; but only once (MAX_IMPORT_RUNS), as the
    # file itself may be what stopped the worker.
    claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, attempts__lt=MAX_IMPORT_RUNS)
    claimed = Import.objects.filter(claimable, pk=import_id).update(
        status=JobStatus.RUNNING, started_at=now, updated_at=now, attempts=F("attempts") + 1, **_FRESH_COUNTS
    )
    if not claimed:
        _give_up_interrupted(import_id)
        return None
    row = Import.objects.select_related("owner").get(pk=import_id)
    try:
        with row.file.open("rb") as fileobj:
            _import_from(row, fileobj, progress)
    except FileNotFoundError:
        _finish_failed(row, _("The uploaded file is gone; upload it again."))
    except Exception:
        logger.exception("import %s failed", import_id)
        _finish_failed(row, _("The import stopped on an internal error; what was imported before it is kept."))
    finally:
        _delete_upload(row)
    return row


def _delete_upload(row: Import) -> None:
    if row.file:
        row.file.storage.delete(row.file.name)
        Import.objects.filter(pk=row.pk).update(file="")


def _give_up_interrupted(import_id) -> None:
    """An import whose workers stopped mid-way ``MAX_IMPORT_RUNS`` times ends failed (and its upload
    is deleted); a finished or deleted one is left alone."""
    row = Import.objects.filter(pk=import_id, status=JobStatus.RUNNING).first()
    if row is None:
        logger.info("import %s is finished or gone: nothing to run", import_id)
        return
    logger.error("import %s: its worker stopped %d times; marked failed", import_id, row.attempts)
    _finish_failed(
        row,
        _(
            "The import was interrupted %(count)d times (its worker stopped) and is not tried again; "
            "what was imported before it is kept. Upload the file again to go on."
        )
        % {"count": row.attempts},
    )
    _delete_upload(row)


def import_file(*, user: User, path: Path | str, progress: Progress | None = None) -> Import:
    """Import a file on this machine at once (the commands), recorded as an Import of ``user``'s.
    ``FileError`` when it is plainly not an export (nothing is recorded then)."""
    path = Path(path)
    with path.open("rb") as fileobj:
        sources.sniff(fileobj)
        now = timezone.now()
        row = Import.objects.create(
            owner=user,
            status=JobStatus.RUNNING,
            file_name=path.name[:255],
            file_size=path.stat().st_size,
            created_at=now,
            started_at=now,
        )
        try:
            return _import_from(row, fileobj, progress)
        except BaseException:
            _finish_failed(row, _("The import stopped on an internal error; what was imported before it is kept."))
            raise


# --- exports -------------------------------------------------------------------------------------


@transaction.atomic
def user_export_start(*, user: User) -> Export:
    """Queue a zip of everything ``user`` owns (the API, and staff's "Export this user's data")."""
    recent = (
        selectors.exports_of(user=user)
        .filter(
            status__in=(ExportStatus.QUEUED, ExportStatus.RUNNING), created_at__gte=timezone.now() - EXPORT_REUSE_WINDOW
        )
        .first()
    )
    if recent is not None:
        return recent
    row = Export.objects.create(owner=user)
    transaction.on_commit(lambda: _enqueue_export(row.pk))
    return row


def user_export_write(*, user: User, fileobj, progress: Progress | None = None) -> dict:
    """Write ``user``'s export zip into ``fileobj`` at once (``manage.py export_user``)."""
    return archive.write_user_archive(user=user, fileobj=fileobj, exported_at=timezone.now(), progress=progress)


def user_export_run(*, export_id) -> Export | None:
    """The job: write the zip under MEDIA_ROOT/exports/ and keep it for ``PORTABILITY_EXPORT_DAYS``."""
    now = timezone.now()
    claimed = Export.objects.filter(pk=export_id, status__in=(ExportStatus.QUEUED, ExportStatus.RUNNING)).update(
        status=ExportStatus.RUNNING, started_at=now
    )
    if not claimed:
        logger.info("export %s is finished or gone: nothing to run", export_id)
        return None
    exports_purge_expired()
    row = Export.objects.select_related("owner").get(pk=export_id)
    try:
        with tempfile.NamedTemporaryFile(suffix=".zip") as scratch:
            row.counts = archive.write_user_archive(user=row.owner, fileobj=scratch, exported_at=now)
            scratch.flush()
            scratch.seek(0)
            row.file.save("export.zip", File(scratch, name="export.zip"), save=False)
    except Exception:
        logger.exception("export %s failed", export_id)
        if row.file:
            row.file.storage.delete(row.file.name)
        finished = timezone.now()
        Export.objects.filter(pk=row.pk).update(
            status=ExportStatus.FAILED,
            error=_("The export could not be written; ask for a new one."),
            finished_at=finished,
        )
        row.refresh_from_db()
        return row
    row.file_size = row.file.size
    row.status = ExportStatus.DONE
    row.finished_at = timezone.now()
    row.expires_at = row.finished_at + timedelta(days=conf.export_days())
    row.save(update_fields=["file", "file_size", "counts", "status", "finished_at", "expires_at"])
    return row


def export_download_check(*, export: Export) -> None:
    """Refuse a download that cannot be served (not finished yet, failed, expired)."""
    if export.status in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        raise ExportNotReady(_("The export is not finished yet; ask for its status and try again later."))
    if export.status == ExportStatus.FAILED:
        raise ExportNotReady(_("This export failed; ask for a new one."), code="export_failed")
    if export.is_expired or not export.file:
        raise ExportExpired(_("This export has expired and its file was deleted; ask for a new one."))


def exports_purge_expired(*, now=None) -> int:
    """Delete the files of exports past their expiry; their rows stay, marked expired."""
    purged = 0
    for export in selectors.exports_expired(now=now):
        if export.file:
            export.file.storage.delete(export.file.name)
        purged += Export.objects.filter(pk=export.pk, status=ExportStatus.DONE).update(
            status=ExportStatus.EXPIRED, file=""
        )
    return purged
