"""A real uvicorn server running the project's ASGI app, for tests and benchmarks (loopback only)."""

import socket
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
