"""The containers' smoke tests, over HTTP from the CI machine (Python's standard library only).

    container_smoke.py single URL
        the image alone (SQLite, every process in one container): /healthz, the web client's page
        and bundle, then a user registered through the API gets a reply from the embedded model.
    container_smoke.py stack PROXY_URL REPLICA_A_URL REPLICA_B_URL
        the compose stack (PostgreSQL, Redis, two web replicas behind the proxy): a reply through
        the proxy, then a reply streamed by replica A and stopped by a request to replica B (the
        stop crosses processes through Redis), seen stopped by both.

Requests to a replica's own address carry ``Host: localhost`` (an allowed host). Any failure
raises (exit status 1) with what was answered.
"""

import json
import sys
import time
import urllib.error
import urllib.request
import uuid

PASSWORD = "Sunny-Day-42-ci"  # noqa: S105 (a throw-away account of a throw-away stack)


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


def request(base, method, path, body=None, token=None, accept="application/json", timeout=60):
    headers = {"Accept": accept, "Host": "localhost"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)  # noqa: S310
    return urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 (http URLs of this run)


def call(base, method, path, body=None, token=None, statuses=(200,), timeout=60):
    try:
        with request(base, method, path, body, token, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    if status not in statuses:
        raise AssertionError(f"{method} {base}{path}: {status} {raw[:500]!r}")
    return json.loads(raw) if raw else None


def wait_healthy(base, seconds=300):
    deadline, last = time.monotonic() + seconds, ""
    while time.monotonic() < deadline:
        try:
            with request(base, "GET", "/healthz", timeout=5) as response:
                body = json.loads(response.read())
                if response.status == 200 and body.get("local_model") == "ok":
                    print(f"{base}/healthz: {body}")
                    return
                last = str(body)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            last = str(exc)
        time.sleep(2)
    raise AssertionError(f"{base}/healthz not ok after {seconds} s: {last}")


def sign_up(base):
    email = f"ci-{uuid.uuid4().hex[:8]}@example.com"
    call(base, "POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD}, statuses=(202,))
    tokens = call(base, "POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD, "device_id": "ci"})
    return tokens["access"]


def reply(base, token, text="Say hello in French."):
    """A first message answered by the embedded model (?wait=true: 201 once the reply is done)."""
    started = time.monotonic()
    body = call(base, "POST", "/api/v1/conversations?wait=true", {"message": text}, token, statuses=(201,), timeout=300)
    message = body["assistant_message"]
    expect(message["status"] == "complete", message)
    expect(message["content"].strip(), message)
    print(f"reply in {time.monotonic() - started:.1f} s from {base}: {message['content'][:80]!r}")
    return body


def events(response):
    """(event, data) pairs of a text/event-stream response, as they arrive."""
    name, data = "message", []
    for raw in response:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


def single(base):
    wait_healthy(base)
    with request(base, "GET", "/", accept="text/html") as page:
        expect(page.status == 200 and b"/static/client/" in page.read(), "the client page")
    with request(base, "GET", "/static/client/app.js", accept="*/*") as bundle:
        expect(bundle.status == 200 and len(bundle.read()) > 10_000, "the client bundle")
    reply(base, sign_up(base))


def stack(proxy, replica_a, replica_b):
    for base in (replica_a, replica_b):
        wait_healthy(base)
    wait_healthy(proxy)
    with request(proxy, "GET", "/static/client/app.js", accept="*/*") as bundle:
        expect(bundle.status == 200 and len(bundle.read()) > 10_000, "the client bundle from the proxy")
    token = sign_up(proxy)  # a user made through the proxy signs in on both replicas
    reply(proxy, token)

    # A long reply streamed by replica A; stop asked of replica B once its first delta arrived.
    prompt = "Write a very long story about a dragon who learns to cook, in at least 800 words."
    started = time.monotonic()
    with request(
        replica_a, "POST", "/api/v1/conversations", {"message": prompt}, token, accept="text/event-stream", timeout=120
    ) as stream:
        expect(stream.status == 200, stream.status)
        seen = events(stream)
        name, created = next(seen)
        expect(name == "message.created", (name, created))
        conversation, reply_id = created["conversation_id"], created["assistant_message"]["id"]
        deltas, stop_sent = 0, None
        for name, data in seen:
            if name == "delta":
                deltas += 1
                if deltas == 1:
                    stopped = call(
                        replica_b,
                        "POST",
                        f"/api/v1/conversations/{conversation}/stop",
                        {"message_id": reply_id},
                        token,
                        statuses=(202,),
                    )
                    stop_sent = time.monotonic()
                    print(f"stop sent to replica B after {stop_sent - started:.1f} s: {stopped['message']['status']}")
            elif name == "message.done":
                done = data
                break
            elif name == "error":
                raise AssertionError(f"error event: {data}")
        else:
            raise AssertionError("the stream ended without message.done")
    expect(stop_sent is not None, f"the reply ended before its first delta: {done}")
    took = time.monotonic() - stop_sent
    print(f"replica A's stream ended {took:.1f} s after the stop, after {deltas} deltas: {done}")
    expect(done["status"] == "stopped", done)
    expect(took < 10, f"the reply went on for {took:.1f} s after the stop")
    # Stopped for good: replica A's generation ended too (the saved text no longer grows).
    path = f"/api/v1/conversations/{conversation}/messages"
    first = call(replica_b, "GET", path, token=token)["results"]
    time.sleep(3)
    for base in (replica_a, replica_b):
        listed = call(base, "GET", path, token=token)["results"]
        expect([m["role"] for m in listed] == ["user", "assistant"], listed)
        expect(listed[1]["status"] == "stopped", listed[1])
        expect(listed[1]["content"] == first[1]["content"], f"the stopped reply grew: {listed[1]['content']!r}")
    print("the reply was stopped by the other replica")


if __name__ == "__main__":
    command, *urls = sys.argv[1:]
    {"single": single, "stack": stack}[command](*urls)
