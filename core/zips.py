"""A zip's directory as its end record declares it, read before ``zipfile.ZipFile`` opens it.

``ZipFile`` reads a zip's whole central directory into memory when it opens it, one ``ZipInfo``
per part, at about ten times the directory's size (some 500 bytes per part): a small upload of
empty parts would cost a request or a job hundreds of megabytes and seconds. The end-of-central-
directory record (the last bytes of the file, ZIP64's too) says how many parts there are and how
large the directory is; whoever opens an untrusted zip checks these first.
"""

import zipfile
from dataclasses import dataclass
from typing import IO

# 4 MiB holds some 40,000 parts' entries.
MAX_DIRECTORY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ZipDirectory:
    entries: int
    directory_bytes: int


def zip_directory(fileobj: IO[bytes]) -> ZipDirectory | None:
    """What ``fileobj``'s end record declares, or None when it has none (not a zip). Raises
    ``zipfile.BadZipFile``, ``OSError``, ``EOFError`` or ``ValueError`` for a damaged one; leaves
    the position anywhere (seek before reading on)."""
    # The very record ZipFile reads (a private function of the standard library's, used here only;
    # tests/core/test_zips.py fails loudly if it moves).
    end = zipfile._EndRecData(fileobj)  # type: ignore[attr-defined]
    if end is None:
        return None
    return ZipDirectory(
        entries=end[zipfile._ECD_ENTRIES_TOTAL],  # type: ignore[attr-defined]
        directory_bytes=end[zipfile._ECD_SIZE],  # type: ignore[attr-defined]
    )
