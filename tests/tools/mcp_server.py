"""A real MCP server for the tests: the ``mcp`` SDK's MCPServer (FastMCP before mcp 2) over
streamable HTTP on 127.0.0.1, in a thread, with uvicorn.

Its tools (``tools=`` picks which it offers, in this order): ``forecast(city)`` answers
``FORECAST`` for the city; ``define(word)`` answers ``DEFINITION``; ``wait(seconds)`` sleeps that
long (a tool that hangs); ``fail(reason)`` reports an error. Every call is recorded in ``calls``
(name, arguments) as the server received it. With ``token``, a request without ``Authorization:
Bearer <token>`` gets a 401.
"""

import asyncio
import socket
import threading
import time

import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

FORECAST = "Sunny, 21 degrees in {city}"
DEFINITION = "{word}: a word the dictionary knows"


class McpTestServer:
    def __init__(self, *, tools=("forecast", "define"), token: str | None = None):
        self.calls: list[dict] = []
        self.token = token  # when set, requests must carry "Authorization: Bearer <token>"
        self.refused = 0
        server = MCPServer("test-tools")

        def forecast(city: str, ctx: Context) -> str:
            """The weather forecast for a city."""
            self._record("forecast", {"city": city}, ctx)
            return FORECAST.format(city=city)

        def define(word: str, ctx: Context) -> str:
            """What a word means."""
            self._record("define", {"word": word}, ctx)
            return DEFINITION.format(word=word)

        async def wait(seconds: float, ctx: Context) -> str:
            """Waits for the given number of seconds, then says so."""
            self._record("wait", {"seconds": seconds}, ctx)
            await asyncio.sleep(seconds)
            return f"waited {seconds} s"

        def fail(reason: str, ctx: Context) -> str:
            """Always fails with the given reason."""
            self._record("fail", {"reason": reason}, ctx)
            raise ToolError(reason)

        offered = {"forecast": forecast, "define": define, "wait": wait, "fail": fail}
        for name in tools:
            server.tool()(offered[name])

        self.app = server.streamable_http_app()
        if token:
            self.app = self._guarded(self.app)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
        )
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _record(self, name, arguments, ctx) -> None:
        self.calls.append({"name": name, "arguments": arguments})

    def _guarded(self, app):
        async def guarded(scope, receive, send):
            if scope["type"] == "http":
                headers = dict(scope.get("headers") or [])
                if headers.get(b"authorization", b"").decode() != f"Bearer {self.token}":
                    self.refused += 1
                    await send({"type": "http.response.start", "status": 401, "headers": []})
                    await send({"type": "http.response.body", "body": b"unauthorized"})
                    return
            await app(scope, receive, send)

        return guarded

    def _serve(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.sock]))

    def start(self) -> "McpTestServer":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def free_port() -> int:
    """A port nothing listens on (a server that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
