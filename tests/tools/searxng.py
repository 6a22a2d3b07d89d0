"""A fake SearXNG and a page server, real HTTP servers on loopback (each in a thread) for the web
search's tests.

``SearxngServer`` answers ``GET /search?q=...&format=json`` as SearXNG's JSON API does (403 without
``format=json``, as SearXNG with the format off), with the results a test sets (``result(...)``
builds one), and records each query. ``status`` and ``raw`` make it fail: another status, a body
that is not JSON.

``PageServer`` serves the pages a test sets by path (``page(path, body, ...)``, ``redirect(path,
location)``) and records every request it receives, answered or not: a test that the SSRF guard
kept a fetch away asserts it stays empty. It binds 127.0.0.1 unless told another loopback address
(127.0.0.2: on Linux all of 127/8 is this machine's).
"""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


def result(url: str, title: str = "A title", content: str = "A summary.", **more) -> dict:
    """One entry of SearXNG's ``results``, with the fields it sends besides."""
    parts = urlsplit(url)
    entry = {
        "url": url,
        "title": title,
        "content": content,
        "engine": "duckduckgo",
        "engines": ["duckduckgo"],
        "parsed_url": [parts.scheme, parts.netloc, parts.path, "", parts.query, ""],
        "positions": [1],
        "score": 1.0,
        "category": "general",
        "publishedDate": None,
    }
    return entry | more


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler, host: str = "127.0.0.1", port: int = 0):
        super().__init__((host, port), handler)
        self.lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.server_address[0]}:{self.port}"

    def start(self):
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )  # a short poll: stopping a server costs a test 50 ms, not 500
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, headers: dict) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _SearxngHandler(_Handler):
    server: "SearxngServer"

    def do_GET(self):
        parts = urlsplit(self.path)
        params = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        with self.server.lock:
            self.server.queries.append(params)
        if parts.path != "/search":
            return self._send(404, b"Not Found", {"Content-Type": "text/plain"})
        if params.get("format") != "json":
            return self._send(403, b"Forbidden", {"Content-Type": "text/plain"})
        if self.server.raw is not None:
            return self._send(self.server.status, self.server.raw, {"Content-Type": "text/html"})
        body = {
            "query": params.get("q", ""),
            "number_of_results": 0,
            "results": self.server.results,
            "answers": [],
            "corrections": [],
            "infoboxes": [],
            "suggestions": [],
            "unresponsive_engines": [],
        }
        self._send(self.server.status, json.dumps(body).encode(), {"Content-Type": "application/json"})


class SearxngServer(_Server):
    def __init__(self):
        super().__init__(_SearxngHandler)
        self.results: list[dict] = []
        self.queries: list[dict] = []  # each request's query parameters (q, format, ...)
        self.status = 200
        self.raw: bytes | None = None  # set: this body instead of JSON (with ``status``)


@dataclass
class Page:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)


class _PageHandler(_Handler):
    server: "PageServer"

    def do_GET(self):
        with self.server.lock:
            self.server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        page = self.server.pages.get(urlsplit(self.path).path)
        if page is None:
            return self._send(404, b"Not Found", {"Content-Type": "text/plain"})
        self._send(page.status, page.body, page.headers)


class PageServer(_Server):
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        super().__init__(_PageHandler, host, port)
        self.pages: dict[str, Page] = {}
        self.requests: list[tuple[str, dict]] = []  # (path with query, headers in lower case)

    def url(self, path: str) -> str:
        return self.base_url + path

    def page(
        self,
        path: str,
        body: bytes | str,
        content_type: str = "text/html; charset=utf-8",
        *,
        status: int = 200,
        headers: dict | None = None,
    ) -> str:
        """Serve ``body`` at ``path``; its URL."""
        body = body.encode() if isinstance(body, str) else body
        self.pages[path] = Page(status, body, {"Content-Type": content_type, **(headers or {})})
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        self.pages[path] = Page(status, b"", {"Location": location, "Content-Type": "text/plain"})
        return self.url(path)

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


@pytest.fixture
def searxng():
    server = SearxngServer().start()
    yield server
    server.stop()


@pytest.fixture
def pages():
    server = PageServer().start()
    yield server
    server.stop()
