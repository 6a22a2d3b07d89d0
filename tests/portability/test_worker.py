"""Imports and exports run in the worker, not in the request: a real server process and a real
``manage.py db_worker --batch`` on a database of their own, with django-tasks' database backend."""

import io
import json
import zipfile

import httpx
import pytest

from testsupport.servers import ServerProcess, manage, own_database, server_env

from . import chatgpt_export as gpt

pytestmark = pytest.mark.slow

EMAIL, PASSWORD = "worker@example.com", "Worker-test-42"


def _run_worker(env) -> None:
    manage(env, "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload")


def test_imports_and_exports_run_in_the_worker(tmp_path):
    with own_database(tmp_path, "portabilityworker") as database_url:
        env = server_env(
            database_url,
            tmp_path,
            TASKS_BACKEND="django_tasks_db.DatabaseBackend",
            DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
        )
        manage(env, "migrate", "--noinput")
        server = ServerProcess(env).start()
        try:
            base = f"{server.base}/api/v1"
            assert httpx.post(f"{base}/auth/register", json={"email": EMAIL, "password": PASSWORD}).status_code == 202
            login = httpx.post(f"{base}/auth/login", json={"email": EMAIL, "password": PASSWORD}).json()
            client = httpx.Client(headers={"Authorization": f"Bearer {login['access']}"}, timeout=30)

            upload = client.post(
                f"{base}/imports", files={"file": ("export.zip", gpt.as_zip(gpt.export()), "application/zip")}
            )
            assert upload.status_code == 202, upload.text
            import_id = upload.json()["id"]
            started = client.post(f"{base}/user/export")
            assert started.status_code == 202, started.text
            export_id = started.json()["id"]

            # Nothing ran in the requests: both jobs wait for a worker.
            assert client.get(f"{base}/imports/{import_id}").json()["status"] == "queued"
            assert client.get(f"{base}/user/exports/{export_id}").json()["status"] == "queued"
            assert client.get(f"{base}/conversations").json()["count"] == 0
            jobs = manage(
                env, "shell", "-c", "from django_tasks_db.models import DBTaskResult as R; print(R.objects.count())"
            )
            assert jobs.strip().splitlines()[-1] == "2"

            _run_worker(env)

            done = client.get(f"{base}/imports/{import_id}").json()
            assert done["status"] == "done", done
            assert (done["conversations_imported"], done["messages_imported"]) == (2, 8)
            titles = {row["title"] for row in client.get(f"{base}/conversations").json()["results"]}
            assert titles == {"Grüße, 東京", "Pancakes"}

            # The export was queued before the import ran, so it holds what was there then; ask again.
            assert client.get(f"{base}/user/exports/{export_id}").json()["status"] == "done"
            again = client.post(f"{base}/user/export").json()
            _run_worker(env)
            status = client.get(f"{base}/user/exports/{again['id']}").json()
            assert status["status"] == "done", status
            assert status["counts"]["conversations"] == 2
            download = client.get(status["download_url"])
            assert download.status_code == 200
            with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
                bundle = json.loads(archive.read("conversations.json"))
            assert {c["title"] for c in bundle["conversations"]} == titles
        finally:
            server.stop()
