"""What an uploaded file is, from its own bytes and its extension (never the client's Content-Type).

A file is accepted only when its bytes say what it is (a PDF's ``%PDF-``, an image's signature, an
Office or HWPX zip's own parts) or, for text formats that have no signature, when its extension
names a text type AND its bytes decode as text. The stored ``content_type`` comes from here.
"""

import codecs
import json
import os
import zipfile
from dataclasses import dataclass

from charset_normalizer import from_bytes
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from core.zips import MAX_DIRECTORY_BYTES, zip_directory

from .extraction import MAX_ZIP_PARTS
from .types import (
    CSV,
    DOCX,
    GIF,
    HTML,
    HWPX,
    IMAGE_TYPES,
    JPEG,
    JSON,
    MARKDOWN,
    PDF,
    PNG,
    PPTX,
    TEXT,
    WEBP,
    XLSX,
)

# The formats that have no signature: the extension names the type, the bytes must be text.
TEXT_EXTENSIONS = {
    ".txt": TEXT,
    ".text": TEXT,
    ".log": TEXT,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".csv": CSV,
    ".tsv": CSV,
    ".json": JSON,
    ".html": HTML,
    ".htm": HTML,
}
ACCEPTED = "PDF, DOCX, PPTX, XLSX, HWPX, HTML, Markdown, TXT, CSV, JSON, PNG, JPEG, WebP, GIF"

# Types told by their bytes, by the extensions that claim them (a mismatch is named in the refusal).
_SIGNED_EXTENSIONS = {
    ".pdf": PDF,
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".gif": GIF,
    ".webp": WEBP,
    ".docx": DOCX,
    ".pptx": PPTX,
    ".xlsx": XLSX,
    ".hwpx": HWPX,
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # HWP 5 and the old .doc/.xls/.ppt: compound files
_BINARY_MAGIC = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"PK\x03\x04", b"GIF8", b"\x7fELF", b"MZ", b"RIFF", _OLE)
_SNIFF_TEXT_BYTES = 256 * 1024  # enough of a text file to tell its encoding


class UnsupportedType(DomainError):
    status_code = 415
    code = "unsupported_type"


class FileTooLarge(DomainError):
    status_code = 413
    code = "file_too_large"


class EmptyFile(DomainError):
    code = "empty_file"


@dataclass(frozen=True)
class Detected:
    content_type: str
    name: str


def _unsupported(what: str) -> UnsupportedType:
    return UnsupportedType(
        _("%(problem)s This service reads %(accepted)s files.") % {"problem": what, "accepted": ACCEPTED}
    )


def _check_zip_directory(upload, name: str) -> None:
    """Refuse a zip listing more parts than any document has before ``ZipFile`` reads its whole
    directory into the request's memory (core/zips.py): 230,000 empty parts in a 20 MB upload
    would cost a second and 125 MB here."""
    directory = zip_directory(upload)
    if directory is None:
        return  # ZipFile will not find one either
    if directory.entries > MAX_ZIP_PARTS or directory.directory_bytes > MAX_DIRECTORY_BYTES:
        raise UnsupportedType(
            _(
                "The file '%(name)s' is a zip package listing %(parts)s parts in a directory of %(bytes)s bytes; "
                "documents of at most %(limit)s parts (%(mib)d MiB of directory) are read."
            )
            % {
                "name": name,
                "parts": f"{directory.entries:,}",
                "bytes": f"{directory.directory_bytes:,}",
                "limit": f"{MAX_ZIP_PARTS:,}",
                "mib": MAX_DIRECTORY_BYTES // (1024 * 1024),
            }
        )


def _zip_type(head: bytes, upload, name: str) -> str | None:
    """An Office Open XML or HWPX package, by the parts it holds."""
    upload.seek(0)
    try:
        _check_zip_directory(upload, name)
        upload.seek(0)
        with zipfile.ZipFile(upload) as package:
            names = set(package.namelist())
            if "mimetype" in names and package.getinfo("mimetype").file_size < 100:
                if package.read("mimetype").strip() == b"application/hwp+zip":
                    return HWPX
            if any(name.startswith("Contents/section") for name in names) and "Contents/content.hpf" in names:
                return HWPX
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return DOCX
                if "ppt/presentation.xml" in names:
                    return PPTX
                if "xl/workbook.xml" in names:
                    return XLSX
    # A damaged or unusual package is "not that type" (a 415), never a 500: an encrypted part
    # (RuntimeError), a compression method zipfile lacks (NotImplementedError), a part cut short
    # (EOFError), a ZIP64 part zipfile was told not to read (LargeZipFile).
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
        KeyError,
        RuntimeError,
        NotImplementedError,
    ):
        return None
    finally:
        upload.seek(0)
    return None


def _image_type(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def looks_like_text(data: bytes) -> bool:
    """Bytes with no NUL and no binary signature that some encoding (UTF-8, CP949, ...) reads."""
    if not data or data.startswith(_BINARY_MAGIC) or b"\x00" in data:
        return False
    try:
        # Not final: the sniffed head may end inside a character.
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
        return True
    except UnicodeDecodeError:
        pass
    return from_bytes(data).best() is not None


def _signed_type(head: bytes, upload, name: str) -> str | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(head, upload, name)
    return _image_type(head)


def _check_json(upload, name: str) -> None:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    try:
        json.loads(data.decode("utf-8-sig"))
    # RecursionError: arrays or objects nested deeper than the parser goes ("[" * 100000).
    except (ValueError, RecursionError) as exc:
        raise _unsupported(_("The file '%(name)s' is not valid JSON (UTF-8).") % {"name": name}) from exc


def detect(upload, *, name: str) -> Detected:
    """The type of ``upload`` (a Django UploadedFile or any seekable binary file), or
    ``UnsupportedType`` saying what is accepted."""
    name = os.path.basename(name or "").strip()[:255] or "upload"
    extension = os.path.splitext(name)[1].lower()
    upload.seek(0)
    head = upload.read(_SNIFF_TEXT_BYTES)
    upload.seek(0)

    if head.startswith(_OLE):
        if extension == ".hwp":
            # HWP 5 is a binary compound file. The one Python reader, pyhwp, is AGPL-licensed, which
            # this project cannot ship; HWPX (its open XML successor) is read instead.
            raise UnsupportedType(
                _(
                    "HWP files (the binary format of Hangul 2014 and earlier) cannot be read here: open the file in "
                    "Hangul and save it as HWPX (File > Save As > HWPX), then upload that."
                )
            )
        raise _unsupported(
            _("Old binary Office files (.doc, .xls, .ppt) cannot be read: save it as DOCX, XLSX or PPTX.")
        )
    signed = _signed_type(head, upload, name)
    if signed:
        claimed = _SIGNED_EXTENSIONS.get(extension)
        # The name must agree with the bytes (any image name for any image: screenshots are misnamed;
        # no extension at all, as a pasted blob may have, leaves the bytes to say it).
        if claimed == signed or (claimed in IMAGE_TYPES and signed in IMAGE_TYPES) or not extension:
            return Detected(signed, name)
        raise _unsupported(
            _(
                "The contents of '%(name)s' are %(type)s, which its name (ending in '%(extension)s') "
                "does not say: rename it with the right extension."
            )
            % {"name": name, "type": signed, "extension": extension or _("nothing")}
        )
    if head.startswith(b"PK\x03\x04"):
        raise _unsupported(
            _("The file '%(name)s' is a zip archive of a kind this service cannot read.") % {"name": name}
        )
    text_type = TEXT_EXTENSIONS.get(extension)
    if text_type and looks_like_text(head):
        if text_type == JSON:
            _check_json(upload, name)
        return Detected(text_type, name)
    if text_type:
        raise _unsupported(_("The file '%(name)s' is named as text but its contents are not text.") % {"name": name})
    claimed = _SIGNED_EXTENSIONS.get(extension)
    if claimed:
        raise _unsupported(
            _("The contents of '%(name)s' are not %(type)s, although its name ends in '%(extension)s'.")
            % {"name": name, "type": claimed, "extension": extension}
        )
    raise _unsupported(_("Files of type '%(extension)s' cannot be read.") % {"extension": extension or _("none")})
