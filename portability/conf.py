"""The app's knobs: a Django setting when the project defines one, else the environment, else the
default. (They are read at call time, so tests and operators can change them.)"""

import os

from django.conf import settings

DEFAULT_MAX_IMPORT_BYTES = 200 * 1024 * 1024
DEFAULT_EXPORT_DAYS = 7


def _setting(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return int(value)


def max_import_bytes() -> int:
    """Largest upload ``POST /imports`` takes (``PORTABILITY_MAX_IMPORT_BYTES``, 200 MiB)."""
    return _setting("PORTABILITY_MAX_IMPORT_BYTES", DEFAULT_MAX_IMPORT_BYTES)


def max_unzipped_bytes() -> int:
    """Largest file read out of an uploaded zip: four times the upload limit (JSON compresses well,
    a zip bomb does not get further than this)."""
    return 4 * max_import_bytes()


def export_days() -> int:
    """Days a user export stays downloadable (``PORTABILITY_EXPORT_DAYS``, 7)."""
    return _setting("PORTABILITY_EXPORT_DAYS", DEFAULT_EXPORT_DAYS)
