"""The fixtures the reproductions share with the apps' own tests (imported, so registered here)."""

from tests.portability.conftest import _media_root, upload  # noqa: F401
