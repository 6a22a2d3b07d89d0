"""Closed-loop load generator for the capacity bench: raw asyncio streams (uvloop), HTTP/1.1 keep-alive.

Run as its own process (the capacity bench pins it to core 1); reads a JSON job on stdin, writes a
JSON result on stdout:

    {"mode": "service" | "direct", "host": "127.0.0.1", "port": 8000, "rounds": 3, "ramp": 5.0,
     "timeout": 60, "model": "ttft=0.3,rate=20,tokens=100", "tokens": 100,
     "clients": [{"token": "...", "conversation": "<uuid>"}, ...]   # service mode
     "one_request": false,                                          # service mode
     "n": 100}                                                      # direct mode

Each client starts at ``i * ramp / n`` seconds, then for ``rounds`` rounds, one after the other:
- service, two requests (the default): ``POST /api/v1/conversations/{id}/messages {"content": "hi"}``
  (``Accept: application/json``), then ``GET`` the answer's ``stream_url`` (SSE) and reads it to
  ``message.done``;
- service, one request (``"one_request": true``): the same POST with ``Accept: text/event-stream``,
  whose answer is the reply's stream: first ``message.created`` (id ``<reply id>:0``, data the JSON the
  plain POST answers), then the reply's events as ``GET /stream`` sends them, read to ``message.done``;
- direct: ``POST /v1/chat/completions`` (stream) on the upstream with the same model string, read to
  ``[DONE]``.

Per reply it records the POST time (one request: to its ``message.created`` event), the time from
the POST's start to the first text (TTFT), the times of the first and last text, the token count,
the bytes sent and received on the connection (HTTP heads, chunk framing and bodies), and checks the
whole text (token ``i`` is ``"t<i> "``), the event ids (strictly +1; on the one-request path from
``:0``, every id of the reply's own id), the final status and error events.
"""

import asyncio
import json
import resource
import sys
import time

READ_LIMIT = 1 << 22


class HTTPError(Exception):
    pass


def expected_text(tokens: int) -> str:
    return "".join(f"t{i} " for i in range(tokens))


class Connection:
    """One HTTP/1.1 keep-alive connection; requests are sent one at a time."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.sent = self.received = 0  # bytes, over every connection this object opened

    async def ensure(self) -> None:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=READ_LIMIT)

    async def _readuntil(self, separator: bytes) -> bytes:
        data = await self.reader.readuntil(separator)
        self.received += len(data)
        return data

    async def _readexactly(self, size: int) -> bytes:
        data = await self.reader.readexactly(size)
        self.received += len(data)
        return data

    async def _read(self, size: int) -> bytes:
        data = await self.reader.read(size)
        self.received += len(data)
        return data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict, body: bytes = b"") -> tuple[int, dict]:
        await self.ensure()
        lines = [f"{method} {path} HTTP/1.1", f"host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            lines.append(f"content-length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        self.sent += len(data)
        self.writer.write(data)
        head = await self._readuntil(b"\r\n\r\n")
        status_line, *rest = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        response_headers = {}
        for line in rest:
            if ":" in line:
                key, _, value = line.partition(":")
                response_headers[key.strip().lower()] = value.strip()
        return status, response_headers

    async def body_parts(self, headers: dict):
        """The response body, piece by piece as it arrives (chunked, content-length or until close)."""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size_line = await self._readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0], 16)
                if size == 0:
                    await self._readuntil(b"\r\n")  # no trailers are expected
                    break
                data = await self._readexactly(size + 2)
                yield data[:-2]
        elif "content-length" in headers:
            left = int(headers["content-length"])
            while left > 0:
                data = await self._read(min(left, 65536))
                if not data:
                    raise HTTPError("body cut short")
                left -= len(data)
                yield data
        else:
            while data := await self._read(65536):
                yield data
            self.close()
            return
        if headers.get("connection", "").lower() == "close":
            self.close()

    async def read_body(self, headers: dict) -> bytes:
        return b"".join([part async for part in self.body_parts(headers)])


async def sse_events(parts):
    """(message id, number, event, data) of each SSE event in a stream of body pieces; comments are
    skipped. Ids are ``<message id>:<number>`` (older servers: a bare number, message id ``None``)."""
    buffer = b""
    async for part in parts:
        buffer += part
        while True:
            end = buffer.find(b"\n\n")
            if end < 0:
                break
            block, buffer = buffer[:end], buffer[end + 2 :]
            message_id = event_id = name = None
            data = []
            for line in block.split(b"\n"):
                if line.startswith(b"data:"):
                    data.append(line[5:].lstrip(b" "))
                elif line.startswith(b"id:"):
                    head, _, number = line[3:].strip().rpartition(b":")
                    message_id, event_id = (head.decode() or None), int(number)
                elif line.startswith(b"event:"):
                    name = line[6:].strip().decode()
            if data or name:
                yield message_id, event_id, name or "message", b"\n".join(data)


def _new_record(client: int, round_: int) -> dict:
    return {
        "client": client,
        "round": round_,
        "ok": False,
        "error": None,
        "post_status": None,
        "post_s": None,
        "ttft_s": None,
        "first_s": None,
        "last_s": None,
        "tokens": 0,
        "events": 0,
        "text_ok": False,
        "lost": 0,
        "dup": 0,
        "reordered": 0,
        "error_events": 0,
        "status": None,
        "snapshot": False,
        "sent_bytes": 0,
        "received_bytes": 0,
    }


async def service_reply(conn: Connection, job: dict, client: dict, record: dict, expected: str) -> None:
    auth = {"authorization": f"Bearer {client['token']}"}
    one_request = bool(job.get("one_request"))
    accept = "text/event-stream" if one_request else "application/json"
    t0 = time.perf_counter()
    status, headers = await conn.request(
        "POST",
        f"/api/v1/conversations/{client['conversation']}/messages",
        {**auth, "content-type": "application/json", "accept": accept},
        b'{"content": "hi"}',
    )
    record["post_status"] = status
    if one_request:
        if status != 200 or not headers.get("content-type", "").startswith("text/event-stream"):
            raw = await conn.read_body(headers)
            record["post_s"] = time.perf_counter() - t0
            kind = headers.get("content-type", "")
            record["error"] = f"POST (event stream) {status} {kind}: {raw[:200].decode(errors='replace')}"
            return
        await read_reply(conn, headers, record, t0, expected, one_request=True)
        return
    raw = await conn.read_body(headers)
    record["post_s"] = time.perf_counter() - t0
    if not 200 <= status < 300:
        record["error"] = f"POST {status}: {raw[:200].decode(errors='replace')}"
        return
    stream_url = json.loads(raw)["stream_url"]
    status, headers = await conn.request("GET", stream_url, {**auth, "accept": "text/event-stream"})
    if status != 200:
        raw = await conn.read_body(headers)
        record["error"] = f"GET stream {status}: {raw[:200].decode(errors='replace')}"
        return
    await read_reply(conn, headers, record, t0, expected, one_request=False)


async def read_reply(
    conn: Connection, headers: dict, record: dict, t0: float, expected: str, *, one_request: bool
) -> None:
    """Read a reply's event stream to ``message.done`` and check it. On the one-request path the
    first event must be ``message.created`` with id ``<reply id>:0``, and every later id the reply's."""
    text = []
    seen: set[int] = set()
    previous = highest = reply_id = None
    parts = conn.body_parts(headers)
    events = sse_events(parts)
    done = False
    if one_request:
        first = await anext(events, None)
        record["post_s"] = time.perf_counter() - t0
        if first is None:
            conn.close()
            record["error"] = "stream ended before message.created"
            return
        message_id, event_id, name, data = first
        record["events"] += 1
        if name != "message.created":
            conn.close()
            record["error"] = f"first event {name!r}, not message.created"
            return
        reply_id = json.loads(data)["assistant_message"]["id"]
        if message_id != reply_id or event_id != 0:
            conn.close()
            record["error"] = f"message.created has id {message_id}:{event_id}, not {reply_id}:0"
            return
        seen.add(0)
        previous = highest = 0
    async for message_id, event_id, name, data in events:
        now = time.perf_counter() - t0
        record["events"] += 1
        if reply_id is not None and message_id != reply_id:
            record["error"] = f"an event of another reply: {message_id}, not {reply_id}"
            break
        if event_id is not None:
            if previous is not None:
                if event_id in seen:
                    record["dup"] += 1
                elif event_id < highest:
                    record["reordered"] += 1
                elif event_id != previous + 1:
                    record["lost"] += event_id - previous - 1
            seen.add(event_id)
            previous = event_id
            highest = event_id if highest is None else max(highest, event_id)
        if name in ("delta", "snapshot"):
            piece = json.loads(data).get("text") or ""
            if name == "snapshot":
                record["snapshot"] = True
            if piece:
                text.append(piece)
                if record["first_s"] is None:
                    record["first_s"] = record["ttft_s"] = now
                record["last_s"] = now
        elif name == "error":
            record["error_events"] += 1
        elif name == "message.done":
            record["status"] = json.loads(data).get("status")
            done = True
            break
    if done:
        try:  # the stream ends right after message.done: finish the body to keep the connection
            async with asyncio.timeout(2):
                async for _ in parts:
                    pass
        except TimeoutError:
            conn.close()
    else:
        conn.close()
        record["error"] = record["error"] or "stream ended before message.done"
    whole = "".join(text)
    record["tokens"] = whole.count(" ")
    record["text_ok"] = whole == expected
    record["ok"] = (
        done
        and record["text_ok"]
        and record["status"] == "complete"
        and not (record["lost"] or record["dup"] or record["reordered"] or record["error_events"])
    )


async def direct_reply(conn: Connection, job: dict, record: dict, expected: str) -> None:
    body = json.dumps(
        {
            "model": job["model"],
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": 8000,
        }
    ).encode()
    t0 = time.perf_counter()
    status, headers = await conn.request(
        "POST", "/v1/chat/completions", {"content-type": "application/json", "accept": "text/event-stream"}, body
    )
    record["post_status"] = status
    if status != 200:
        raw = await conn.read_body(headers)
        record["error"] = f"POST {status}: {raw[:200].decode(errors='replace')}"
        return
    text = []
    finished = done = False
    async for _, _, _, data in sse_events(conn.body_parts(headers)):
        now = time.perf_counter() - t0
        record["events"] += 1
        if data == b"[DONE]":
            done = True
            continue
        chunk = json.loads(data)
        for choice in chunk.get("choices") or ():
            piece = (choice.get("delta") or {}).get("content")
            if piece:
                text.append(piece)
                if record["first_s"] is None:
                    record["first_s"] = record["ttft_s"] = now
                record["last_s"] = now
            if choice.get("finish_reason"):
                finished = True
    whole = "".join(text)
    record["tokens"] = whole.count(" ")
    record["text_ok"] = whole == expected
    record["status"] = "complete" if finished and done else "incomplete"
    record["ok"] = record["text_ok"] and finished and done


async def run_client(index: int, job: dict, expected: str, results: list, started: float) -> None:
    await asyncio.sleep(max(0.0, started + index * job["ramp"] / max(1, job["n"]) - time.perf_counter()))
    conn = Connection(job["host"], job["port"])
    client = job["clients"][index] if job["mode"] == "service" else None
    try:
        for round_ in range(job["rounds"]):
            record = _new_record(index, round_)
            record["start_s"] = time.perf_counter() - started
            sent, received = conn.sent, conn.received
            try:
                async with asyncio.timeout(job["timeout"]):
                    if client is not None:
                        await service_reply(conn, job, client, record, expected)
                    else:
                        await direct_reply(conn, job, record, expected)
            except TimeoutError:
                record["error"] = f"timeout after {job['timeout']} s"
                conn.close()
            except (OSError, asyncio.IncompleteReadError, HTTPError, ValueError) as exc:
                record["error"] = f"{exc.__class__.__name__}: {exc}"
                conn.close()
            record["sent_bytes"], record["received_bytes"] = conn.sent - sent, conn.received - received
            results.append(record)
    finally:
        conn.close()


async def run(job: dict) -> dict:
    if job["mode"] == "service":
        job["n"] = len(job["clients"])
    expected = expected_text(job["tokens"])
    results: list[dict] = []
    started = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(run_client(i, job, expected, results, started) for i in range(job["n"])))
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter() - started
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {"replies": results, "wall_s": wall, "loadgen_cpu_s": cpu}


def main() -> None:
    job = json.load(sys.stdin)
    if job["host"] not in ("127.0.0.1", "localhost"):
        raise SystemExit("loopback only")
    job.setdefault("ramp", 0.0)
    job.setdefault("timeout", 60.0)
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        result = runner.run(run(job))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
