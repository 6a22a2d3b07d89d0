"""A fake OpenAI-compatible upstream on plain asyncio (uvloop), cheap enough for 400+ streams on one core.

Run as its own process (the capacity bench pins it to core 1):

    python bench/fake_upstream.py [--port 0]      # prints "PORT <n>" on stdout once listening

Endpoints: ``GET /v1/models`` and ``POST /v1/chat/completions`` (``stream: true``: chunked
``text/event-stream`` of ``chat.completion.chunk`` objects exactly like OpenAI: the role in the first
delta, one chunk per token, a final chunk with ``finish_reason: "stop"``, a usage chunk when
``stream_options.include_usage``, then ``data: [DONE]``; ``stream: false``: one JSON completion).
HTTP/1.1 keep-alive. The requested model name chooses the timing:

- ``ttft=0.3,rate=20,tokens=100``: first token after 0.3 s, then 20 tokens/s (each token is due at
  ``start + ttft + i / rate``, so a late wake-up does not slow the rest down); ``rate=0`` means as fast
  as possible, flushing every token;
- ``burst:2000``: 2,000 tokens written as fast as the process can (in batches).

Token ``i`` is ``"t<i> "``; ``max_tokens`` caps the count.
"""

import argparse
import asyncio
import json
import sys
import time

MAX_BODY = 1 << 20


def token(i: int) -> str:
    return f"t{i} "


def parse_model(name: str) -> dict:
    """``ttft=..,rate=..,tokens=..`` or ``burst:<tokens>`` -> {ttft, rate, tokens, burst}."""
    spec = {"ttft": 0.0, "rate": 0.0, "tokens": 20, "burst": False}
    name = (name or "").strip()
    if name.startswith("burst"):
        spec["burst"] = True
        _, _, count = name.partition(":")
        spec["tokens"] = int(count or 2000)
        return spec
    for part in filter(None, name.split(",")):
        key, _, value = part.partition("=")
        key = key.strip()
        if key in ("ttft", "rate"):
            spec[key] = float(value)
        elif key == "tokens":
            spec["tokens"] = int(value)
    return spec


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class Completion:
    """Pre-formatted SSE lines of one streamed completion."""

    def __init__(self, model: str, created: int):
        head = json.dumps(
            {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": model},
            separators=(",", ":"),
        )
        self.prefix = ("data: " + head[:-1] + ',"choices":[{"index":0,"delta":{').encode()
        self.suffix = b'},"finish_reason":null}]}\n\n'
        self.head = head

    def token_event(self, i: int) -> bytes:
        text = json.dumps(token(i)).encode()
        role = b'"role":"assistant",' if i == 0 else b""
        return self.prefix + role + b'"content":' + text + self.suffix

    def final_event(self) -> bytes:
        return ("data: " + self.head[:-1] + ',"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n').encode()

    def usage_event(self, prompt_tokens: int, completion_tokens: int) -> bytes:
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        usage_json = json.dumps(usage, separators=(",", ":"))
        return ("data: " + self.head[:-1] + ',"choices":[],"usage":' + usage_json + "}\n\n").encode()


def _response(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    return f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n\r\n".encode() + body


async def _stream(writer: asyncio.StreamWriter, body: dict, t_request: float) -> None:
    model = str(body.get("model") or "")
    spec = parse_model(model)
    count = spec["tokens"]
    if body.get("max_tokens"):
        count = min(count, int(body["max_tokens"]))
    completion = Completion(model, int(time.time()))
    prompt_chars = sum(len(str(m.get("content") or "")) for m in body.get("messages") or [])
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
        b"transfer-encoding: chunked\r\n\r\n"
    )
    loop = asyncio.get_running_loop()
    if spec["burst"]:
        batch = []
        for i in range(count):
            batch.append(_chunk(completion.token_event(i)))
            if len(batch) == 64:
                writer.write(b"".join(batch))
                batch.clear()
                await writer.drain()
        writer.write(b"".join(batch))
    else:
        start = t_request
        ttft, rate = spec["ttft"], spec["rate"]
        for i in range(count):
            due = start + ttft + (i / rate if rate > 0 else 0.0)
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif i and rate <= 0:
                await asyncio.sleep(0)  # as fast as possible, but one token per write
            writer.write(_chunk(completion.token_event(i)))
            await writer.drain()
    tail = [completion.final_event()]
    if (body.get("stream_options") or {}).get("include_usage"):
        tail.append(completion.usage_event(prompt_chars // 4 + 1, count))
    tail.append(b"data: [DONE]\n\n")
    writer.write(b"".join(_chunk(item) for item in tail) + b"0\r\n\r\n")
    await writer.drain()


def _plain(body: dict) -> bytes:
    model = str(body.get("model") or "")
    count = parse_model(model)["tokens"]
    if body.get("max_tokens"):
        count = min(count, int(body["max_tokens"]))
    text = "".join(token(i) for i in range(count))
    reply = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": count, "total_tokens": count + 1},
    }
    return _response("200 OK", json.dumps(reply).encode())


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    loop = asyncio.get_running_loop()
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            t_request = loop.time()
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    key, _, value = line.partition(":")
                    headers[key.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            if length > MAX_BODY:
                writer.write(_response("413 Payload Too Large", b'{"error":{"message":"too large"}}'))
                return
            raw = await reader.readexactly(length) if length else b""
            path = path.split("?", 1)[0].rstrip("/")
            if method == "GET" and path.endswith("/models"):
                names = ["ttft=0.3,rate=20,tokens=100", "ttft=0,rate=0,tokens=20", "burst:2000"]
                data = {"object": "list", "data": [{"id": n, "object": "model", "owned_by": "bench"} for n in names]}
                writer.write(_response("200 OK", json.dumps(data).encode()))
            elif method == "POST" and path.endswith("/chat/completions"):
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    writer.write(_response("400 Bad Request", b'{"error":{"message":"bad json"}}'))
                    continue
                if body.get("stream"):
                    await _stream(writer, body, t_request)
                else:
                    writer.write(_plain(body))
            else:
                writer.write(_response("404 Not Found", b'{"error":{"message":"not found"}}'))
            if headers.get("connection", "").lower() == "close":
                await writer.drain()
                return
    except (ConnectionError, asyncio.CancelledError):
        return
    finally:
        writer.close()


async def serve(host: str, port: int) -> None:
    server = await asyncio.start_server(handle, host, port, backlog=4096, limit=MAX_BODY + 65536)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("loopback only")
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
