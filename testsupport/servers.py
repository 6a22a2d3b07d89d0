"""Real servers for tests and benchmarks (loopback only): the project's ASGI app under uvicorn (in a
thread, or as a process of its own on a database of its own), and the embedded model's own server
process."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def serve_asgi(*, lifespan: str = "on") -> Iterator[str]:
    """Serve ``config.asgi.application`` on 127.0.0.1 (random port) in a thread; yield its base URL.

    ``lifespan="on"`` runs the app's startup as production does (it starts the periodic reaper).
    """
    import uvicorn

    from config.asgi import application

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(application, lifespan=lifespan, log_level="warning", loop="asyncio", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _tail(path: str, lines: int = 40) -> str:
    with open(path, errors="replace") as f:
        return "".join(f.readlines()[-lines:])


@contextmanager
def serve_model(*, timeout: float = 60, embedding: bool = False) -> Iterator[str]:
    """Run the embedded model's server (``conversations.llm.model_server``, with ``embedding`` its
    embedding twin) as a subprocess on 127.0.0.1 (a free port); yield its OpenAI-compatible base
    URL (``http://127.0.0.1:<port>/v1``).

    Ready once ``GET /v1/models`` answers 200; if the process dies first or does not answer within
    ``timeout`` seconds, raises with the end of its log. Terminated (then killed) at exit.
    """
    import httpx

    from conversations.llm.model_server import command, environment

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/v1"
    with tempfile.NamedTemporaryFile(prefix="model-server-", suffix=".log") as log:
        process = subprocess.Popen(  # noqa: S603 (our own fixed argv)
            command("127.0.0.1", port, embedding=embedding),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment(),
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"model server exited with {process.returncode}:\n{_tail(log.name)}")
                try:
                    if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"model server did not answer within {timeout} s:\n{_tail(log.name)}")
                time.sleep(0.2)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- the web server as a process of its own ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def own_database(tmp_path: Path, prefix: str) -> Iterator[str]:
    """A database of the caller's own, of the kind the suite runs on: a SQLite file, or a fresh
    PostgreSQL database (dropped afterwards) when ``DATABASE_URL`` points at PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / f'{prefix}.sqlite3'}"
        return
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = (url.rsplit("/", 1)[0] + "/postgres").replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(database_url: str, tmp_path: Path, **extra: str) -> dict:
    """The environment of a server process started as ``make serve`` would (the default profile),
    on ``database_url``, logging into ``tmp_path``, with Redis under a prefix of its own if set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CHAT_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DJANGO_SECRET_KEY="test-server-process-key-" + uuid.uuid4().hex,
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
        LOG_FILE=str(tmp_path / "server.log"),
        **extra,
    )
    if os.environ.get("REDIS_URL"):
        env["REDIS_PREFIX"] = f"proc-{uuid.uuid4().hex[:8]}"
    return env


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


class ServerProcess:
    """``uvicorn config.asgi:application`` as a process of its own on 127.0.0.1 (a free port)."""

    def __init__(self, env: dict):
        self.env, self.port, self.process = env, free_port(), None
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServerProcess":
        import httpx

        command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(self.port)]
        # Its console goes beside its log file, not into the test run's output.
        console = open(Path(self.env["LOG_FILE"]).with_suffix(".console"), "ab")  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603
            [*command, "--host", "127.0.0.1", "--log-level", "warning"],
            cwd=ROOT,
            env=self.env,
            stdout=console,
            stderr=subprocess.STDOUT,
        )
        console.close()  # the child has its own descriptor
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
