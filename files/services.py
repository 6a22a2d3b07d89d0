"""Writes for stored files: checked uploads, extraction results, deletion."""

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.preferences import saved_language, supported_language
from accounts.storage import size_text, storage_check
from core.exceptions import DomainError

from . import extraction
from .models import FilePage, FileStatus, StoredFile
from .signals import file_ready
from .types import IMAGE_TYPES
from .uploads import EmptyFile, FileTooLarge, detect

logger = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# An extraction the job worker lost (it stopped mid-file) is run once more; a file that stopped two
# workers is likely what stops them, and ends failed.
MAX_EXTRACT_RUNS = 2
# What a client refused for too many files in processing is told to wait: most files are read in
# seconds, the slowest within FILES_EXTRACT_TIMEOUT_SECONDS.
PROCESSING_RETRY_AFTER_SECONDS = 10
# Blob names looked up per query by the sweep (files_sweep).
ORPHAN_LOOKUP_BATCH = 500


class TooManyProcessing(DomainError):
    status_code = 429
    code = "too_many_files_processing"

    def __init__(self, detail: str, *, wait: int = PROCESSING_RETRY_AFTER_SECONDS):
        super().__init__(detail)
        self.wait = wait  # sent as Retry-After


def max_upload_bytes() -> int:
    return settings.FILES_MAX_UPLOAD_BYTES


def extraction_limits() -> extraction.Limits:
    return extraction.Limits(
        max_pages=settings.FILES_EXTRACT_MAX_PAGES,
        max_chars=settings.FILES_EXTRACT_MAX_CHARS,
        timeout_seconds=settings.FILES_EXTRACT_TIMEOUT_SECONDS,
        memory_bytes=settings.FILES_EXTRACT_MEMORY_BYTES,
        max_unzipped_bytes=settings.FILES_EXTRACT_MAX_UNZIPPED_BYTES,
    )


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _enqueue_extraction(file_id) -> None:
    from .tasks import file_extract_job

    try:
        # The language of the request that uploaded it (its user's saved one, else the browser's):
        # a failed extraction's reason is written in it, for the person who reads it.
        file_extract_job.enqueue(str(file_id), translation.get_language() or "")
    except Exception:
        logger.exception("the extraction of file %s could not be queued", file_id)
        StoredFile.objects.filter(pk=file_id, status=FileStatus.PROCESSING).update(
            status=FileStatus.FAILED,
            error="unreadable",
            error_detail=_("The extraction could not be queued; try again."),
        )


def _processing_check(*, owner) -> None:
    """One user queues at most ``FILES_MAX_PROCESSING_PER_USER`` documents' reading at a time (0: no
    cap), so no one fills the job worker's queue for everyone else."""
    cap = settings.FILES_MAX_PROCESSING_PER_USER
    if cap and StoredFile.objects.filter(owner=owner, status=FileStatus.PROCESSING).count() >= cap:
        raise TooManyProcessing(
            _(
                "%(count)d of your files are still being read; upload this one once one of them is ready "
                "(in about %(seconds)d seconds)."
            )
            % {"count": cap, "seconds": PROCESSING_RETRY_AFTER_SECONDS}
        )


@transaction.atomic
def file_create(*, owner, upload, name: str | None = None, limit_processing: bool = True) -> StoredFile:
    """Check an upload (type from its bytes, size, the owner's storage, the documents the owner
    already has in ``processing``), store it, and queue its extraction once the row is committed.
    Images need none: they are ``ready`` at once (and never count as processing).
    ``limit_processing=False`` is for a job that brings many files in at once under its own bounds
    (an import), which must not lose files to a cap meant for uploads."""
    size = upload.size or 0
    if size == 0:
        raise EmptyFile(_("The file is empty."))
    limit = max_upload_bytes()
    if size > limit:
        raise FileTooLarge(
            _("The file (%(size)s) is larger than the limit of %(limit)s per file.")
            % {"size": size_text(size), "limit": size_text(limit)}
        )
    detected = detect(upload, name=name or upload.name)
    # The plan's storage, checked in this transaction, which it locks for the user (so two uploads of
    # one user are counted one after the other below too).
    storage_check(user=owner, size=size)
    is_image = detected.content_type in IMAGE_TYPES
    if not is_image and limit_processing:
        _processing_check(owner=owner)
    stored = StoredFile(
        owner=owner,
        name=detected.name,
        content_type=detected.content_type,
        size=size,
        sha256=_sha256(upload),
        status=FileStatus.READY if is_image else FileStatus.PROCESSING,
    )
    # Stored through the storage API under the row's own path (files/<owner>/<id>), never the client's name.
    stored.blob.save(detected.name, upload, save=False)
    try:
        stored.save(force_insert=True)
    except BaseException:
        stored.blob.storage.delete(stored.blob.name)
        raise
    if is_image:
        transaction.on_commit(lambda: file_ready.send(sender=StoredFile, file=stored))
    else:
        transaction.on_commit(lambda: _enqueue_extraction(stored.pk))
    return stored


def _local_path(stored: StoredFile):
    """A path the child process can open: the blob's own, or a temporary copy for remote storage."""
    try:
        return stored.blob.path, None
    except NotImplementedError:
        copy = tempfile.NamedTemporaryFile(prefix="file-", delete=False)  # noqa: SIM115 (removed by the caller)
        with stored.blob.open("rb") as source, copy:
            for chunk in iter(lambda: source.read(1024 * 1024), b""):
                copy.write(chunk)
        return copy.name, copy.name


def file_extract(*, file_id, language: str = "") -> StoredFile | None:
    """Read a file's pages (bounded, in a child process) and record the outcome; sends
    ``file_ready`` when it ended well. A file deleted meanwhile is simply skipped.

    Why it failed is written in ``language`` (the uploader's request's), else the owner's saved
    language, else ``LANGUAGE_CODE``."""
    stored = StoredFile.objects.select_related("owner__settings").filter(pk=file_id).first()
    if stored is None or stored.content_type in IMAGE_TYPES:
        return stored
    language = supported_language(language) or saved_language(stored.owner)
    with translation.override(language or settings.LANGUAGE_CODE):
        return _file_extract(stored, file_id)


def _file_extract(stored: StoredFile, file_id) -> StoredFile | None:
    StoredFile.objects.filter(pk=stored.pk).update(extract_runs=stored.extract_runs + 1)
    try:
        path, temporary = _local_path(stored)
    except OSError:
        outcome = extraction.Outcome(error=extraction.UNREADABLE, detail=_("The stored file is missing."))
        temporary = None
    else:
        try:
            outcome = extraction.extract_bounded(path, stored.content_type, extraction_limits())
        finally:
            if temporary:
                os.unlink(temporary)

    with transaction.atomic():
        stored = StoredFile.objects.select_for_update().filter(pk=file_id).first()
        if stored is None:
            return None
        FilePage.objects.filter(file=stored).delete()
        if outcome.error:
            stored.status, stored.error = FileStatus.FAILED, outcome.error
            stored.error_detail = outcome.text(_)
            stored.pages = None
        else:
            FilePage.objects.bulk_create(
                FilePage(file=stored, number=page.number, label=page.label, text=page.text) for page in outcome.pages
            )
            stored.status, stored.error, stored.error_detail = FileStatus.READY, "", ""
            stored.pages = len(outcome.pages)
        stored.save(update_fields=["status", "error", "error_detail", "pages", "updated_at"])
        if stored.status == FileStatus.READY:
            transaction.on_commit(lambda: file_ready.send(sender=StoredFile, file=stored))
    return stored


@transaction.atomic
def file_extract_again(*, file: StoredFile) -> StoredFile:
    """Read the file again (an operator's "Extract again", after a reader was fixed)."""
    if file.content_type in IMAGE_TYPES:
        return file
    StoredFile.objects.filter(pk=file.pk).update(
        status=FileStatus.PROCESSING, error="", error_detail="", pages=None, extract_runs=0, updated_at=timezone.now()
    )
    file.refresh_from_db()
    transaction.on_commit(lambda: _enqueue_extraction(file.pk))
    return file


@transaction.atomic
def file_delete(*, file: StoredFile) -> None:
    """Delete a file: its pages and passages go by cascade, its message attachments with it (the
    message keeps its text), a collector item holding it keeps its title and loses its file; the
    blob goes after commit (core/files.py)."""
    file.delete()


@transaction.atomic
def files_delete_unreferenced(*, file_ids: Iterable) -> int:
    """Delete those of ``file_ids`` that no message and no collector item holds any more (called
    when conversations or items go). Returns how many went."""
    ids = list(file_ids)
    if not ids:
        return 0
    orphans = StoredFile.objects.filter(pk__in=ids).filter(messages__isnull=True, collector_items__isnull=True)
    count = 0
    for stored in orphans.distinct():
        stored.delete()  # one by one: each blob goes after commit with its row
        count += 1
    return count


def files_sweep(*, stuck_after: timedelta | None = None, now=None) -> dict:
    """The periodic sweep: a file ``processing`` for longer than ``stuck_after`` lost its job (a
    worker stopped); it is queued once more, then failed ``timeout``. Blobs in the files area that
    no row names are removed."""
    now = now or timezone.now()
    stuck_after = stuck_after or timedelta(minutes=settings.FILES_STUCK_AFTER_MINUTES)
    stuck = StoredFile.objects.filter(status=FileStatus.PROCESSING, updated_at__lt=now - stuck_after)
    requeued = failed = 0
    for stored in stuck:
        if stored.extract_runs < MAX_EXTRACT_RUNS:
            StoredFile.objects.filter(pk=stored.pk).update(updated_at=now)
            transaction.on_commit(lambda pk=stored.pk: _enqueue_extraction(pk))
            requeued += 1
        else:
            StoredFile.objects.filter(pk=stored.pk, status=FileStatus.PROCESSING).update(
                status=FileStatus.FAILED,
                error=extraction.TIMEOUT,
                error_detail=_("Reading the file did not finish; it was tried twice."),
                updated_at=now,
            )
            failed += 1
    return {"requeued": requeued, "failed": failed, "orphan_blobs": _orphan_blobs_delete(now=now)}


def _orphan_blobs_delete(*, now, min_age: timedelta = timedelta(hours=1)) -> int:
    """Blobs under files/ with no row (a crash between storing and committing). Only local storage
    can be listed cheaply; young blobs are left (their row may still be committing)."""
    from django.core.files.storage import default_storage

    removed = 0
    try:
        owners = default_storage.listdir("files")[0]
    except (FileNotFoundError, NotImplementedError, OSError):
        return 0
    for owner_dir in owners:
        names = default_storage.listdir(f"files/{owner_dir}")[1]
        # Looked up in batches: a whole folder in one ``IN`` passes SQLite's variable limit.
        for start in range(0, len(names), ORPHAN_LOOKUP_BATCH):
            paths = [f"files/{owner_dir}/{name}" for name in names[start : start + ORPHAN_LOOKUP_BATCH]]
            known = set(StoredFile.objects.filter(blob__in=paths).values_list("blob", flat=True))
            for path in paths:
                if path in known:
                    continue
                try:
                    modified = default_storage.get_modified_time(path)
                except (OSError, NotImplementedError):
                    continue
                if modified < now - min_age:
                    default_storage.delete(path)
                    removed += 1
    return removed
