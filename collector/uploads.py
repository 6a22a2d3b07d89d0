"""Upload checks for collector files: size, extension and the file's own first bytes.

The client's Content-Type header is never trusted: a file is accepted only when its extension is
allowed AND its bytes look like that type. The stored content type comes from this table.
"""

import json
import os
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Text given to search and to the model; large enough for real notes, small enough for a prompt.
EXTRACTED_TEXT_MAX_CHARS = 100_000

TEXT_TYPES = {"text/plain", "text/markdown", "text/csv", "application/json"}
TYPE_BY_EXTENSION = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
# Binary formats that must never pass as text even if they happen to decode.
_BINARY_MAGIC = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"PK\x03\x04", b"GIF8", b"\x7fELF", b"MZ")


@dataclass(frozen=True)
class CheckedUpload:
    content_type: str
    original_name: str
    size: int
    text: str | None  # decoded text of text-like files, bounded


def max_upload_bytes() -> int:
    return getattr(settings, "COLLECTOR_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)


def _reject(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def _read_all(upload) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def check_upload(upload) -> CheckedUpload:
    """Validate an uploaded file; raise ValidationError({"file": [...]}) naming the problem."""
    limit = max_upload_bytes()
    size = upload.size or 0
    if size == 0:
        raise _reject("The file is empty.")
    if size > limit:
        raise _reject(f"The file is too large ({size} bytes); the limit is {limit} bytes.")

    original_name = os.path.basename(upload.name or "").strip()[:255] or "upload"
    extension = os.path.splitext(original_name)[1].lower()
    content_type = TYPE_BY_EXTENSION.get(extension)
    if content_type is None:
        allowed = ", ".join(sorted(TYPE_BY_EXTENSION))
        raise _reject(f"Files of type '{extension or 'none'}' are not allowed; allowed extensions: {allowed}.")

    data = _read_all(upload)
    if content_type in SIGNATURES:
        if not data.startswith(SIGNATURES[content_type]):
            raise _reject(f"The file's contents are not {content_type}, although its name ends in '{extension}'.")
        return CheckedUpload(content_type=content_type, original_name=original_name, size=size, text=None)

    if data.startswith(_BINARY_MAGIC) or b"\x00" in data:
        raise _reject(f"The file's contents are binary, not {content_type}.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _reject("Text files must be UTF-8 encoded.") from exc
    if content_type == "application/json":
        try:
            json.loads(text)
        except ValueError as exc:
            raise _reject("The file is not valid JSON.") from exc
    return CheckedUpload(
        content_type=content_type, original_name=original_name, size=size, text=text[:EXTRACTED_TEXT_MAX_CHARS]
    )
