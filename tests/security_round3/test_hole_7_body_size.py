"""Request bodies are refused by size before they are read (core/body_limits.py)."""

import asyncio
import json
import socket
from urllib.parse import urlsplit

import pytest

from core.body_limits import BodySizeLimitMiddleware, body_limit


def _raw_request(base_url: str, head: str, body_chunks=(), *, read_timeout: float = 10) -> tuple[int, dict, bytes]:
    """Send a hand-written HTTP/1.1 request over a real socket; return (status, headers, body)."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=read_timeout) as sock:
        sock.sendall(head.encode())
        for chunk in body_chunks:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed: the rest was never read
        data = b""
        while b"\r\n\r\n" not in data or len(data) < _expected_length(data):
            try:
                piece = sock.recv(65536)
            except ConnectionResetError:
                break
            if not piece:
                break
            data += piece
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def _expected_length(data: bytes) -> int:
    head, sep, _ = data.partition(b"\r\n\r\n")
    if not sep:
        return 1 << 30
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + 4 + int(value.strip())
    return 1 << 30


def test_limits_per_route_come_from_settings(settings):
    assert body_limit("POST", "/api/v1/auth/login") == settings.REQUEST_MAX_BODY_BYTES
    assert body_limit("POST", "/api/v1/imports") > settings.PORTABILITY_MAX_IMPORT_BYTES
    assert body_limit("POST", "/api/v1/collector/items") > settings.COLLECTOR_MAX_UPLOAD_BYTES
    assert body_limit("GET", "/api/v1/imports") == settings.REQUEST_MAX_BODY_BYTES
    assert body_limit("POST", "/v1/chat/completions") == settings.OPENAI_API_MAX_BODY_BYTES


def _run(app, scope, messages):
    """Drive the middleware with these receive messages; return (sent, how many were taken)."""
    taken = 0
    sent = []

    async def receive():
        nonlocal taken
        taken += 1
        return messages[taken - 1] if taken <= len(messages) else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(BodySizeLimitMiddleware(app)(scope, receive, send))
    return sent, taken


async def _reading_app(scope, receive, send):
    """Reads the body as Django's handler does: until the end, or a disconnect."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _scope(path="/api/v1/auth/login", headers=()):
    return {"type": "http", "method": "POST", "path": path, "headers": list(headers)}


def test_a_chunked_body_is_cut_off_at_the_limit_and_the_rest_never_read(settings):
    settings.REQUEST_MAX_BODY_BYTES = 1000
    chunks = [{"type": "http.request", "body": b"x" * 400, "more_body": True} for _ in range(100)]
    sent, taken = _run(_reading_app, _scope(), chunks)
    assert taken == 3  # 400, 800, 1200 > 1000: stop
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["code"] == "request_too_large"


def test_a_declared_length_over_the_limit_is_refused_without_reading(settings):
    settings.REQUEST_MAX_BODY_BYTES = 1000
    sent, taken = _run(_reading_app, _scope(headers=[(b"content-length", b"1001")]), [])
    assert taken == 0
    assert sent[0]["status"] == 413


@pytest.mark.parametrize("value", [b"+5", b" 5", b"5,5", b"-1", b"\xd9\xa5"])
def test_a_content_length_that_is_not_digits_is_a_400(value):
    sent, taken = _run(_reading_app, _scope(headers=[(b"content-length", value)]), [])
    assert taken == 0
    assert sent[0]["status"] == 400


def test_bodies_under_the_limit_pass(settings):
    settings.REQUEST_MAX_BODY_BYTES = 1000
    sent, _ = _run(_reading_app, _scope(), [{"type": "http.request", "body": b"x" * 1000, "more_body": False}])
    assert sent[0]["status"] == 200


def test_the_openai_api_refuses_in_openais_shape(settings):
    settings.REQUEST_BODY_LIMITS = [("/v1/", set(), 10)]
    sent, _ = _run(_reading_app, _scope("/v1/chat/completions", [(b"content-length", b"11")]), [])
    assert json.loads(sent[1]["body"])["error"]["code"] == "request_too_large"


@pytest.mark.django_db(transaction=True)
def test_live_an_anonymous_400_mb_login_is_refused_before_its_body(asgi_server):
    # The client declares 400 MB and sends none of it: the answer comes anyway, at once.
    head = (
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        f"Content-Length: {400 * 1024 * 1024}\r\n\r\n"
    )
    status, headers, body = _raw_request(asgi_server, head)
    assert status == 413
    assert json.loads(body)["code"] == "request_too_large"


@pytest.mark.django_db(transaction=True)
def test_live_a_chunked_body_is_cut_off(asgi_server, settings):
    head = (
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 65536
    framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    total = settings.REQUEST_MAX_BODY_BYTES * 4 // len(chunk)
    status, _, body = _raw_request(asgi_server, head, [framed] * total + [b"0\r\n\r\n"])
    assert status == 413
    assert json.loads(body)["code"] == "request_too_large"


@pytest.mark.django_db(transaction=True)
def test_live_an_ordinary_request_still_works(asgi_server):
    payload = json.dumps({"email": "nobody@example.com", "password": "wrong-Password-1"})
    head = (
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n{payload}"
    )
    status, _, body = _raw_request(asgi_server, head)
    assert status == 401


@pytest.mark.parametrize("path", ["/api/v1/files", "/api/v1/collector/items"])
def test_an_upload_route_says_file_too_large_whether_the_size_was_declared_or_counted(path):
    over = body_limit("POST", path) + 1
    declared = _scope(path, [(b"content-length", str(over).encode())])
    sent, taken = _run(_reading_app, declared, [])
    assert (sent[0]["status"], json.loads(sent[1]["body"])["code"], taken) == (413, "file_too_large", 0)

    chunks = [{"type": "http.request", "body": b"x" * (over // 2 + 1), "more_body": True} for _ in range(3)]
    sent, _ = _run(_reading_app, _scope(path), chunks)
    assert (sent[0]["status"], json.loads(sent[1]["body"])["code"]) == (413, "file_too_large")
    # Other routes keep the generic code.
    sent, _ = _run(_reading_app, _scope("/api/v1/todos", [(b"content-length", b"99999999")]), [])
    assert json.loads(sent[1]["body"])["code"] == "request_too_large"
