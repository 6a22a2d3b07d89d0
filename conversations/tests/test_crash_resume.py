"""Fault tests against real processes: the web server killed with SIGKILL mid-reply and restarted.

The server is a real uvicorn subprocess on its own database (a SQLite file, or a fresh PostgreSQL
database when the suite runs on PostgreSQL, with Redis when ``REDIS_URL`` is set), the upstream
the test's slow OpenAI-compatible server. A client that was reading when the server died resumes
with the last id it really received, and one that arrives after the restart joins late: both end
with ``message.done``, numbered above anything seen before the crash.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from conversations.tests.sse import iter_events
from conversations.tests.upstream import expected_text, upstream  # noqa: F401

pytestmark = pytest.mark.slow

ROOT = Path(settings.BASE_DIR)
PASSWORD = "Crash-test-42"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _database(tmp_path):
    """A database of the test's own, of the kind the suite runs on."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'crash.sqlite3'}"
        return
    import psycopg

    name = f"crash_{uuid.uuid4().hex[:12]}"
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(database_url: str, tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CHAT_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DATABASE_URL=database_url,
        CHAT_STALE_AFTER_SECONDS="2",
        LOG_LEVEL="WARNING",
        LOG_FILE=str(tmp_path / "server.log"),
    )
    if os.environ.get("REDIS_URL"):
        env["REDIS_PREFIX"] = f"crash-{uuid.uuid4().hex[:8]}"
    return env


def _manage(env, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


class Server:
    def __init__(self, env):
        self.env, self.port, self.process = env, _free_port(), None
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(self.port)]
        self.process = subprocess.Popen(  # noqa: S603
            [*command, "--host", "127.0.0.1", "--log-level", "warning"], cwd=ROOT, env=self.env
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/api/v1/models", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _setup(env, upstream_url: str) -> None:  # noqa: F811
    _manage(env, "migrate", "--noinput")
    script = (
        "from conversations.models import LLMModel; "
        "LLMModel.objects.create(slug='slow', display_name='slow', provider='openai', upstream_model='slow:400', "
        f"base_url='{upstream_url}', max_output_tokens=4000, context_window=8192)"
    )
    _manage(env, "shell", "-c", script)


def _sign_in(base) -> dict:
    body = {"email": "crash@example.com", "password": PASSWORD}
    assert httpx.post(f"{base}/api/v1/auth/register", json=body).status_code == 201
    access = httpx.post(f"{base}/api/v1/auth/login", json=body).json()["access"]
    return {"Authorization": f"Bearer {access}"}


def _read_until_final(base, conversation_id, headers, last_event_id=None):
    extra = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
    url = f"{base}/api/v1/conversations/{conversation_id}/stream"
    with httpx.stream("GET", url, headers={**headers, **extra}, timeout=30) as response:
        assert response.status_code == 200
        return list(iter_events(response))


def test_resume_after_the_server_was_killed_mid_reply_ends_with_done(tmp_path, upstream):  # noqa: F811
    with _database(tmp_path) as database_url:
        env = _env(database_url, tmp_path)
        _setup(env, upstream.base_url)
        server = Server(env).start()
        try:
            headers = _sign_in(server.base)
            created = httpx.post(
                f"{server.base}/api/v1/conversations", json={"model": "slow", "message": "Tell me"}, headers=headers
            )
            assert created.status_code == 201, created.text
            conversation_id = created.json()["id"]

            # A client reads part of the reply, then the server dies under it.
            seen = []
            url = f"{server.base}/api/v1/conversations/{conversation_id}/stream"
            with pytest.raises(httpx.HTTPError):
                with httpx.stream("GET", url, headers=headers, timeout=30) as response:
                    for event in iter_events(response):
                        seen.append(event)
                        if len(seen) >= 8:
                            server.kill()
            last_seen = max(e.id for e in seen)
            text_seen = "".join(e.data.get("text", "") for e in seen if e.name in ("snapshot", "delta"))
            assert text_seen and expected_text(400).startswith(text_seen)

            server.start()  # same port, same database: the reply's worker is gone
            resumed = _read_until_final(server.base, conversation_id, headers, last_event_id=last_seen)
            late = _read_until_final(server.base, conversation_id, headers)
        finally:
            server.stop()

    for events in (resumed, late):
        assert events[-1].name == "message.done"
        assert events[-1].data["status"] == "interrupted"
        ids = [e.id for e in events]
        assert ids == sorted(set(ids))
    # Ids never go back: everything the resuming client gets is numbered above what it saw.
    assert min(e.id for e in resumed) > last_seen
    assert late[0].name == "snapshot"
    if os.environ.get("REDIS_URL"):
        # The shared log outlived the process: the resuming client gets exactly the text it missed.
        missed = "".join(e.data["text"] for e in resumed if e.name == "delta")
        assert late[0].data["text"] == text_seen + missed
    else:
        # The log died with the process: the text saved at the last checkpoint, as a snapshot
        # (a crash loses at most the text of the last checkpoint interval).
        assert resumed[0].name == "snapshot"
        assert resumed[0].data["text"] == late[0].data["text"]
    assert expected_text(400).startswith(late[0].data["text"])
