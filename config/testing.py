"""Real servers for tests and benchmarks (loopback only): the project's ASGI app under uvicorn, and
the embedded model's own server process."""

import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


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
def serve_model(*, timeout: float = 60) -> Iterator[str]:
    """Run the embedded model's server (``conversations.llm.model_server``) as a subprocess on
    127.0.0.1 (a free port); yield its OpenAI-compatible base URL (``http://127.0.0.1:<port>/v1``).

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
            command("127.0.0.1", port),
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
