"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and the benchmark.

The requested model name picks the behaviour: ``<mode>[:<tokens>[:<delay seconds>]]``:

- ``normal`` tokens with a tiny pause; ``slow`` 50 ms between tokens; ``burst`` as fast as possible
- ``http500`` fails before the first token; ``flaky500`` fails the first request of each
  conversation (by prompt) then answers normally
- ``drop`` closes the connection after half the tokens; ``malformed`` sends a broken chunk after
  half the tokens; ``timeout`` sends headers and then nothing
- ``markdown`` streams the fixed Markdown reply ``MARKDOWN_REPLY`` (``markdown_tokens()``, its
  ``<tokens>`` part is ignored; 10 ms between tokens unless a delay is given: ``markdown::0.05``):
  a heading, a list, a wide ```python block, a wide table, a link, and hostile HTML and links
- ``cite`` streams ``CITE_REPLY``, which cites its first source as ``[1]`` (and a ``[9]`` that no
  source has)
- ``tools``: a model that calls tools. When the request has ``tools`` and its last message is not a
  tool's result, it calls the first tool (``tool_choice`` naming one: that one; and the second too
  unless ``parallel_tool_calls`` is false), its arguments ``{"<first required parameter>": "<the
  last user message>"}`` streamed in two pieces, ``finish_reason: "tool_calls"``; otherwise it
  answers ``TOOL_ANSWER`` followed by the tool results it was sent, joined by `` | ``.
- ``toolsay``: ``tools`` that first says ``TOOL_PREFACE``, then calls (text before calls in one response)
- ``toolloop``: ``tools`` that never stops calling: it calls again after every result, as long as
  tools are offered and ``tool_choice`` is not ``"none"`` (then it answers as ``tools`` does)
- ``json``: answers ``JSON_REPLY`` (a JSON object) in pieces; ``prose`` answers ``PROSE_REPLY``
- ``window:<n>``: a server whose own window is ``n`` characters of messages: past it, a 400 in
  OpenAI's words (``context_length_exceeded``), as vLLM and OpenAI refuse; otherwise ``normal``
Token ``i`` is ``"t<i> "``, so a reply of ``n`` tokens is predictable. With ``logprobs: true`` every
content chunk carries OpenAI's ``logprobs.content`` for its piece (``logprob`` -0.25).
"""

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODELS = [
    "normal",
    "slow",
    "burst",
    "http500",
    "flaky500",
    "drop",
    "malformed",
    "timeout",
    "markdown",
    "cite",
    "tools",
    "toolloop",
    "toolsay",
    "json",
    "prose",
    "window",
]
CITE_REPLY = "The warranty lasts three years [1]; extensions are asked for in writing [9]."
TOOL_ANSWER = "From the tools: "
TOOL_PREFACE = "Let me look that up. "
JSON_REPLY = '{"city": "Seoul", "degrees": 12}'
PROSE_REPLY = "Seoul is 12 degrees today."

# What a web client must render safely: ordinary Markdown (wide enough to overflow a phone) and
# content that would run script if it were inserted as HTML or followed as a link.
MARKDOWN_REPLY = """# Release notes

Three things changed:

- faster **streaming**
- safer rendering
- a wider table

```python
def greet(name: str) -> str:
    return f"Hello, {name}!"  # a long line that must scroll inside its block, never the page: aaaaaaaaaaaaaaaa
```

| Column one | Column two | Column three | Column four | Column five | Column six | Column seven |
| --- | --- | --- | --- | --- | --- | --- |
| alpha-alpha | beta-beta | gamma-gamma | delta-delta | epsilon-epsilon | zeta-zeta | eta-eta |

Read more on [the example site](https://example.com).

<img src=x onerror="window.__xss=1">

<script>window.__xss=2</script>

And [click](javascript:window.__xss=3) here.

<dialog open class="wide"><a class="primary" href="https://example.com/login">Session expired: sign in</a></dialog>
"""


def token(i: int) -> str:
    return f"t{i} "


def expected_text(n: int) -> str:
    return "".join(token(i) for i in range(n))


def markdown_tokens() -> list[str]:
    """``MARKDOWN_REPLY`` cut into small pieces (a word with the spaces and newlines before it)."""
    return re.findall(r"\s*\S+|\s+", MARKDOWN_REPLY)


def cite_tokens() -> list[str]:
    """``CITE_REPLY`` word by word."""
    return re.findall(r"\S+\s*", CITE_REPLY)


def parse_mode(model: str) -> tuple[str, int, float | None]:
    parts = model.split(":")
    mode = parts[0]
    count = int(parts[1]) if len(parts) > 1 and parts[1] else 8
    delay = float(parts[2]) if len(parts) > 2 else None
    return mode, count, delay


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 64 * 1024  # burst mode writes many chunks per send
    server: "UpstreamServer"

    def log_message(self, *args):  # keep test output clean
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.server.record_call("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in MODELS]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        self.server.record_call("POST", self.path, {k.lower(): v for k, v in self.headers.items()})
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": "not found"}})
            return
        self.server.record(body, {k.lower(): v for k, v in self.headers.items()})
        mode, count, delay = parse_mode(body.get("model", "normal"))
        pieces = markdown_tokens() if mode == "markdown" else cite_tokens() if mode == "cite" else None
        if mode == "json":
            pieces = [JSON_REPLY[i : i + 5] for i in range(0, len(JSON_REPLY), 5)]
        elif mode == "prose":
            pieces = PROSE_REPLY.split(" ")
        elif mode in TOOL_MODES and not _tool_calls_wanted(body, again=mode == "toolloop"):
            results = [m.get("content") or "" for m in body.get("messages", []) if m.get("role") == "tool"]
            pieces = [TOOL_ANSWER, " | ".join(results)]
        if pieces is not None:
            count = len(pieces)
        # Cut at max_tokens and say so ("length"), as real servers do.
        cut = bool(body.get("max_tokens")) and int(body["max_tokens"]) < count
        count = min(count, int(body.get("max_tokens") or count))
        if mode == "window":
            said = sum(len(json.dumps(m.get("content") or "")) for m in body.get("messages", []))
            if said > count:
                self._json(
                    400,
                    {
                        "error": {
                            "message": f"This model's maximum context length is {count} tokens. However, your "
                            f"messages resulted in {said} tokens.",
                            "type": "invalid_request_error",
                            "param": "messages",
                            "code": "context_length_exceeded",
                        }
                    },
                )
                return
            count = 3
        if mode == "http500":
            self._json(500, {"error": {"message": "upstream exploded", "type": "server_error"}})
            return
        if mode == "flaky500":
            key = json.dumps(body.get("messages"))
            if self.server.first_time(key):
                self._json(503, {"error": {"message": "warming up", "type": "server_error"}})
                return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        # Chunked, as real servers stream: a dropped connection is then a visible protocol error.
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        write = self._write_chunk
        if mode in TOOL_MODES and _tool_calls_wanted(body, again=mode == "toolloop"):
            self._stream_tool_calls(body, preface=TOOL_PREFACE if mode == "toolsay" else "")
            return
        if mode == "timeout":
            self.server.hang.wait(30)
            return
        pause = delay if delay is not None else {"slow": 0.05, "burst": 0.0, "markdown": 0.01}.get(mode, 0.002)
        created = int(time.time())
        for i in range(count):
            if mode == "drop" and i == count // 2:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if mode == "malformed" and i == count // 2:
                write(b'data: {"choices": [{"delta": {"content": \n\n')
                write(b"")
                return
            chunk = {
                "id": "chatcmpl-test",
                "object": "chat.completion.chunk",
                "created": created,
                "model": body.get("model"),
                "choices": [
                    {"index": 0, "delta": {"content": token(i) if pieces is None else pieces[i]}, "finish_reason": None}
                ],
            }
            if i == 0:
                chunk["choices"][0]["delta"]["role"] = "assistant"
            if body.get("logprobs"):
                piece = chunk["choices"][0]["delta"]["content"]
                chunk["choices"][0]["logprobs"] = {
                    "content": [{"token": piece, "logprob": -0.25, "bytes": list(piece.encode()), "top_logprobs": []}]
                }
            write(b"data: " + json.dumps(chunk).encode() + b"\n\n", flush=mode != "burst")
            if mode != "burst":
                if pause:
                    time.sleep(pause)
        self._finish(body, created, cut=cut, count=count)

    def _finish(self, body: dict, created: int, *, cut: bool = False, count: int = 0, reason: str = "") -> None:
        write = self._write_chunk
        prompt_chars = sum(len(json.dumps(m.get("content") or "")) for m in body.get("messages", []))
        final = {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": created,
            "model": body.get("model"),
            "choices": [{"index": 0, "delta": {}, "finish_reason": reason or ("length" if cut else "stop")}],
        }
        usage = {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": created,
            "model": body.get("model"),
            "choices": [],
            "usage": {"prompt_tokens": prompt_chars // 4 + 1, "completion_tokens": count, "total_tokens": 0},
        }
        for item in (final, usage):
            write(b"data: " + json.dumps(item).encode() + b"\n\n")
        write(b"data: [DONE]\n\n")
        write(b"")

    def _stream_tool_calls(self, body: dict, preface: str = "") -> None:
        """Call the first tool (or the one ``tool_choice`` names; the second too unless parallel calls
        are off), each call's arguments in two pieces, as OpenAI streams them."""
        tools = [tool["function"] for tool in body["tools"]]
        choice = body.get("tool_choice")
        if isinstance(choice, dict):
            tools = [tool for tool in tools if tool["name"] == choice["function"]["name"]]
        chosen = tools[:1] if body.get("parallel_tool_calls") is False else tools[:2]
        question = next((m.get("content") for m in reversed(body["messages"]) if m.get("role") == "user"), "")
        created = int(time.time())
        if preface:
            chunk = {
                "id": "chatcmpl-test",
                "object": "chat.completion.chunk",
                "created": created,
                "model": body.get("model"),
                "choices": [{"index": 0, "delta": {"content": preface}, "finish_reason": None}],
            }
            self._write_chunk(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        for index, tool in enumerate(chosen):
            required = (tool.get("parameters") or {}).get("required") or ["input"]
            arguments = json.dumps({required[0]: question})
            half = len(arguments) // 2
            for position, piece in enumerate((arguments[:half], arguments[half:])):
                call = {"index": index, "function": {"arguments": piece}}
                if position == 0:
                    call.update(id=f"call_{index}_{tool['name']}", type="function")
                    call["function"]["name"] = tool["name"]
                chunk = {
                    "id": "chatcmpl-test",
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": body.get("model"),
                    "choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None}],
                }
                self._write_chunk(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        self._finish(body, created, count=len(chosen), reason="tool_calls")

    def _write_chunk(self, data: bytes, flush: bool = True) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        if flush or not data:
            self.wfile.flush()


TOOL_MODES = ("tools", "toolloop", "toolsay")


def _tool_calls_wanted(body: dict, *, again: bool = False) -> bool:
    messages = body.get("messages") or []
    offered = bool(body.get("tools")) and body.get("tool_choice") != "none"
    return offered and (again or messages[-1].get("role") != "tool")


class UpstreamServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # the benchmark opens 100 streams at once

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        # Every request received, answered or not: (method, path, headers in lower case).
        self.calls: list[tuple[str, str, dict]] = []
        self.hang = threading.Event()
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def handle_error(self, request, client_address):
        # A client that goes away mid-stream (a stop, a disconnect test) is expected here.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def record(self, body: dict, headers: dict) -> None:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)

    def record_call(self, method: str, path: str, headers: dict) -> None:
        with self._lock:
            self.calls.append((method, path, headers))

    def first_time(self, key: str) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True

    def start(self) -> "UpstreamServer":
        self._thread = threading.Thread(target=self.serve_forever, name="fake-upstream", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.hang.set()
        self.shutdown()
        self.server_close()


if __name__ == "__main__":
    server = UpstreamServer().start()
    print(server.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


# --- pytest fixtures (imported by the streaming tests) ----------------------------------------

try:
    import pytest
except ImportError:  # the module also runs as a script for the benchmark
    pytest = None

if pytest is not None:

    @pytest.fixture(scope="session")
    def upstream():
        server = UpstreamServer().start()
        yield server
        server.stop()
