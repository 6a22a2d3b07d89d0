import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

IMPORTS = "/api/v1/imports"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # Uploads and export zips in tests go to a throwaway directory, never the project's media folder.
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """``upload(client, data, name=...)``: POST /imports with the file; the job (the immediate
    backend in tests) runs when the request's transaction commits, as it would be queued then."""

    def post(client, data: bytes, name: str = "conversations.json"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(IMPORTS, {"file": SimpleUploadedFile(name, data)}, format="multipart")

    return post
