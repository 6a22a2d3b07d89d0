"""Upload checks for collector files: the collector's own size limit, then the files store's type
check (``files.uploads.detect``: the file's own bytes and its extension, never the client's
Content-Type). A file item's file is a ``files.StoredFile``: one store and one extraction for chat
attachments and collector files alike."""

import os
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from files.uploads import detect

DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class CheckedUpload:
    content_type: str
    original_name: str
    size: int


def max_upload_bytes() -> int:
    return getattr(settings, "COLLECTOR_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)


def _reject(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def check_upload(upload) -> CheckedUpload:
    """Validate an uploaded file: ValidationError({"file": [...]}) for its size, 415
    ``unsupported_type`` (files.uploads) for a type the store cannot read."""
    limit = max_upload_bytes()
    size = upload.size or 0
    if size == 0:
        raise _reject(_("The file is empty."))
    if size > limit:
        raise _reject(
            _("The file is too large (%(size)d bytes); the limit is %(limit)d bytes.") % {"size": size, "limit": limit}
        )
    name = os.path.basename(upload.name or "").strip()[:255] or "upload"
    detected = detect(upload, name=name)
    return CheckedUpload(content_type=detected.content_type, original_name=detected.name, size=size)
