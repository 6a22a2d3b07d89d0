import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # Uploads in tests go to a throwaway directory, never the project's media folder.
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"
