"""The extraction job in the real job worker (``manage.py jobs_worker``, django-tasks' database
backend, a database of the test's own): queued after the upload commits, read by the worker's
bounded child process, a zip bomb failing there without stopping the worker."""

import json
import subprocess
import sys
import time

import pytest

from testsupport.servers import ROOT, manage, own_database, server_env

from . import makers

pytestmark = pytest.mark.slow

_UPLOAD = (
    "import sys; from django.core.files.uploadedfile import SimpleUploadedFile; from accounts.models import User; "
    "from files.services import file_create; "
    "owner = User.objects.get_or_create(email='worker@example.com')[0]; "
    "print(file_create(owner=owner, upload=SimpleUploadedFile({name!r}, open({path!r}, 'rb').read())).pk)"
)
_STATE = (
    "import json; from files.models import StoredFile; "
    "print(json.dumps({str(f.pk): [f.status, f.error, f.pages, [p.text for p in f.text_pages.all()]] "
    "for f in StoredFile.objects.all()}, ensure_ascii=False))"
)


def upload(env, tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return manage(env, "shell", "-c", _UPLOAD.format(name=name, path=str(path))).strip().splitlines()[-1]


def state(env) -> dict:
    return json.loads(manage(env, "shell", "-c", _STATE).strip().splitlines()[-1])


def test_the_worker_reads_files_and_survives_a_bomb(tmp_path):
    with own_database(tmp_path, "files") as database_url, open(tmp_path / "worker.log", "ab") as log:
        env = server_env(database_url, tmp_path, DJANGO_MEDIA_ROOT=str(tmp_path / "media"))
        manage(env, "migrate", "--noinput")
        bomb = upload(env, tmp_path, "bomb.docx", makers.docx_zip_bomb(300 * 1024 * 1024))
        pdf = upload(env, tmp_path, "보고서.pdf", makers.pdf_with_text(["열일곱째 쪽의 사실", "마지막 쪽"]))
        assert {value[0] for value in state(env).values()} == {"processing"}  # queued, no worker yet

        worker = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
            [sys.executable, "manage.py", "jobs_worker", "--interval", "0.1", "--no-startup-delay"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 90
            while any(value[0] == "processing" for value in state(env).values()):
                assert time.monotonic() < deadline, "the worker did not read the files"
                assert worker.poll() is None, "the worker stopped"
                time.sleep(0.5)
            assert worker.poll() is None  # still running after the bomb
        finally:
            worker.terminate()
            worker.wait(15)
        files = state(env)
        assert files[bomb][:2] == ["failed", "too_large"]
        assert files[pdf][:3] == ["ready", "", 2]
        assert "열일곱째 쪽의 사실" in files[pdf][3][0]
