"""The app's knobs: a Django setting when the project defines one, else the environment, else the
default. (They are read at call time, so tests and operators can change them.)

**What an import may cost.** An import job reads its file as a stream (``jsonstream``): one entry
(a conversation, a collector item, a todo) is in memory at a time, and one entry is at most
``PORTABILITY_MAX_ENTRY_BYTES`` (16 MiB) and ``PORTABILITY_MAX_ENTRY_VALUES`` (500,000 JSON values):
a larger one is reported as failed and the others come in. With these defaults an import job
grows the worker by at most ``IMPORT_MEMORY_CEILING`` (256 MiB) whatever the file holds
(``tests/security_round3/test_holes_2_4_imports.py`` measures it). It holds at most
``PORTABILITY_MAX_IMPORT_ENTRIES`` (100,000) entries per list and runs at most
``PORTABILITY_IMPORT_MAX_SECONDS`` (3,600); what it brought in before the time was up is kept.
"""

import os
import time

from django.conf import settings

MIB = 1024 * 1024
DEFAULT_MAX_IMPORT_BYTES = 200 * MIB
DEFAULT_EXPORT_DAYS = 7
DEFAULT_MAX_IMPORT_ENTRIES = 100_000
DEFAULT_MAX_ENTRY_BYTES = 16 * MIB
DEFAULT_MAX_ENTRY_VALUES = 500_000
DEFAULT_IMPORT_MAX_SECONDS = 3600
# The stated bound on what one import job adds to its worker's memory with the defaults above
# (raising the entry limits raises it: about 3 bytes per byte and 200 bytes per value of an entry).
IMPORT_MEMORY_CEILING = 256 * MIB


def _setting(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return int(value)


def max_import_bytes() -> int:
    """Largest upload ``POST /imports`` takes (``PORTABILITY_MAX_IMPORT_BYTES``, 200 MiB)."""
    return _setting("PORTABILITY_MAX_IMPORT_BYTES", DEFAULT_MAX_IMPORT_BYTES)


def max_unzipped_bytes() -> int:
    """Largest file read out of an uploaded zip, and most bytes of collector files one import reads
    out of it: four times the upload limit (JSON compresses well, a zip bomb does not get further
    than this)."""
    return 4 * max_import_bytes()


def max_import_entries() -> int:
    """Most conversations (and items, todos) one import file may list
    (``PORTABILITY_MAX_IMPORT_ENTRIES``, 100,000): beyond, the file fails before anything is written."""
    return _setting("PORTABILITY_MAX_IMPORT_ENTRIES", DEFAULT_MAX_IMPORT_ENTRIES)


def max_entry_bytes() -> int:
    """Largest entry of an import file, and largest single string in it
    (``PORTABILITY_MAX_ENTRY_BYTES``, 16 MiB)."""
    return _setting("PORTABILITY_MAX_ENTRY_BYTES", DEFAULT_MAX_ENTRY_BYTES)


def max_entry_values() -> int:
    """Most JSON values (keys count too) one entry of an import file may hold
    (``PORTABILITY_MAX_ENTRY_VALUES``, 500,000)."""
    return _setting("PORTABILITY_MAX_ENTRY_VALUES", DEFAULT_MAX_ENTRY_VALUES)


def import_max_seconds() -> int:
    """How long one import may run (``PORTABILITY_IMPORT_MAX_SECONDS``, 3,600)."""
    return _setting("PORTABILITY_IMPORT_MAX_SECONDS", DEFAULT_IMPORT_MAX_SECONDS)


def import_deadline() -> float:
    """The ``time.monotonic()`` by which an import starting now must end."""
    return time.monotonic() + import_max_seconds()


def export_days() -> int:
    """Days a user export stays downloadable (``PORTABILITY_EXPORT_DAYS``, 7)."""
    return _setting("PORTABILITY_EXPORT_DAYS", DEFAULT_EXPORT_DAYS)
