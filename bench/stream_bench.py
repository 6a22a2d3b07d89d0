"""Streaming benchmark against the fake OpenAI-compatible upstream (loopback only, bounded loops).

Compares, for the same upstream replies:
- time to first token (TTFT) through the service (POST the message, then read the SSE stream of a
  real uvicorn server) vs reading the upstream directly, p50/p95, at 1 and 50 concurrent streams;
- delivered tokens/s of a long burst reply through the service vs directly;
- database writes (INSERT/UPDATE on messages) per reply, for a short and a long reply.

Run:  .venv/bin/python bench/stream_bench.py [--rounds 20] [--concurrency 50]
It uses a throw-away SQLite database in a temp directory and the in-memory channel layer unless
REDIS_URL is set.
"""

import argparse
import asyncio
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_tmp = tempfile.mkdtemp(prefix="stream-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp}/bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ["DJANGO_LOG_LEVEL"] = "WARNING"

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402

from accounts import services as account_services  # noqa: E402
from config.testing import serve_asgi  # noqa: E402
from conversations.models import LLMModel  # noqa: E402
from conversations.tests.sse import aiter_events  # noqa: E402
from conversations.tests.upstream import UpstreamServer  # noqa: E402

WRITES = {"n": 0}
POST_SECONDS: list[float] = []
_writes_lock = threading.Lock()


def _count_writes(execute, sql, params, many, context):
    head = sql.lstrip()[:6].upper()
    if head in ("INSERT", "UPDATE") and "conversations_message" in sql:
        with _writes_lock:
            WRITES["n"] += 1
    return execute(sql, params, many, context)


def _install_counter(sender, connection, **kwargs):
    connection.execute_wrappers.append(_count_writes)


connection_created.connect(_install_counter)
for noisy in ("httpx", "httpx2", "openai"):
    logging.getLogger(noisy).setLevel(logging.WARNING)


def pct(values, q) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


async def direct_stream(client, upstream, mode) -> tuple[float, float, int]:
    """(ttft, total seconds, tokens) reading the upstream's SSE directly."""
    t0 = time.perf_counter()
    ttft, tokens = None, 0
    body = {"model": mode, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with client.stream("POST", f"{upstream.base_url}/chat/completions", json=body) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: {") and '"content"' in line:
                tokens += 1
                if ttft is None:
                    ttft = time.perf_counter() - t0
    return ttft, time.perf_counter() - t0, tokens


async def service_stream(client, base, token, conversation_id) -> tuple[float, float, int]:
    """(ttft, total seconds, characters) through POST /messages then GET /stream (SSE)."""
    headers = {"Authorization": f"Bearer {token}"}
    t0 = time.perf_counter()
    sent = await client.post(
        f"{base}/api/v1/conversations/{conversation_id}/messages", json={"content": "hi"}, headers=headers
    )
    sent.raise_for_status()
    POST_SECONDS.append(time.perf_counter() - t0)
    ttft, chars = None, 0
    async with client.stream("GET", f"{base}{sent.json()['stream_url']}", headers=headers) as response:
        async for event in aiter_events(response):
            if event.name in ("delta", "snapshot") and event.data["text"]:
                chars += len(event.data["text"])
                if ttft is None:
                    ttft = time.perf_counter() - t0
            if event.name == "message.done":
                break
    return ttft, time.perf_counter() - t0, chars


def make_users(n, model):
    from conversations.models import Conversation

    people = []
    for i in range(n):
        user = account_services.user_create(email=f"bench{i}@example.com", password="Bench-pass-1")  # noqa: S106
        token = account_services.session_start(user=user, login_type="local", device_id=None).tokens.access
        conversation = Conversation.objects.create(owner=user, model=model, title="bench")
        people.append((token, conversation.pk))
    return people


def set_model(model, mode):
    LLMModel.objects.filter(pk=model.pk).update(upstream_model=mode)


async def ttft_round(base, upstream, people, concurrency, rounds):
    limits = httpx.Limits(max_connections=concurrency * 2 + 10)
    direct, service = [], []
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        for _ in range(rounds):
            results = await asyncio.gather(*(direct_stream(client, upstream, "burst:50") for _ in range(concurrency)))
            direct += [r[0] for r in results]
            results = await asyncio.gather(*(service_stream(client, base, *people[i]) for i in range(concurrency)))
            service += [r[0] for r in results]
    return direct, service


async def throughput(base, upstream, person, tokens):
    async with httpx.AsyncClient(timeout=120) as client:
        _, direct_total, direct_tokens = await direct_stream(client, upstream, f"burst:{tokens}")
        _, service_total, chars = await service_stream(client, base, *person)
    # Token i of the fake upstream is "t<i> ": count tokens by their separators.
    return direct_tokens / direct_total, (
        chars / (len("".join(f"t{i} " for i in range(tokens))) / tokens)
    ) / service_total


async def writes_per_reply(base, person, model, tokens, replies=5):
    from django.conf import settings

    before = WRITES["n"]
    async with httpx.AsyncClient(timeout=120) as client:
        for _ in range(replies):
            await service_stream(client, base, *person)
        await asyncio.sleep(settings.CHAT["DELTA_COALESCE_SECONDS"] + 0.2)  # let the titling write land
    return (WRITES["n"] - before) / replies


@contextmanager
def serve_workers(workers: int):
    """``uvicorn --workers N`` in a child process (events cross workers through Redis)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())  # noqa: S603 (our own interpreter)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("uvicorn workers did not start")
        yield base
    finally:
        server.terminate()
        server.wait(20)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="samples per stream at concurrency 1")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--long-tokens", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (more than 1 needs REDIS_URL)")
    args = parser.parse_args()
    if args.workers > 1 and not os.environ.get("REDIS_URL"):
        parser.error("--workers > 1 needs REDIS_URL: replies are generated and streamed by different workers")
    if not 1 <= args.workers <= 8:
        parser.error("keep --workers between 1 and 8")
    if not 1 <= args.concurrency <= 200 or not 1 <= args.rounds <= 200:
        parser.error("keep --concurrency and --rounds between 1 and 200")

    call_command("migrate", verbosity=0)
    upstream = UpstreamServer().start()
    server = serve_asgi(lifespan="off") if args.workers == 1 else serve_workers(args.workers)
    with server as base:
        model = LLMModel.objects.create(
            slug="bench",
            display_name="bench",
            provider="openai",
            upstream_model="burst:50",
            base_url=upstream.base_url,
            max_output_tokens=8000,
            context_window=16384,
        )
        people = make_users(args.concurrency, model)

        from django.db import connection

        layer = "redis" if os.environ.get("REDIS_URL") else "in-memory"
        print(f"# stream_bench  (uvicorn x{args.workers} + {connection.vendor}, channel layer: {layer})")
        for concurrency, rounds in ((1, args.rounds), (args.concurrency, 2)):
            POST_SECONDS.clear()
            direct, service = asyncio.run(ttft_round(base, upstream, people, concurrency, rounds))
            print(
                f"TTFT @ {concurrency:>3} streams ({len(service)} samples): "
                f"direct p50 {pct(direct, 0.5) * 1000:6.1f} ms p95 {pct(direct, 0.95) * 1000:6.1f} ms | "
                f"service p50 {pct(service, 0.5) * 1000:6.1f} ms p95 {pct(service, 0.95) * 1000:6.1f} ms | "
                f"ratio p50 {pct(service, 0.5) / pct(direct, 0.5):5.1f}x "
                f"p95 {pct(service, 0.95) / pct(direct, 0.95):5.1f}x"
            )
            post = pct(POST_SECONDS, 0.5) * 1000
            print(f"  of which POST /messages (sync view) p50 {post:6.1f} ms")
        set_model(model, f"burst:{args.long_tokens}")
        direct_tps, service_tps = asyncio.run(throughput(base, upstream, people[0], args.long_tokens))
        print(
            f"burst {args.long_tokens} tokens: direct {direct_tps:9.0f} tok/s | service {service_tps:9.0f} tok/s | "
            f"ratio {service_tps / direct_tps:5.2f}"
        )
        if args.workers > 1:  # the writes happen in the worker processes, where this cannot count them
            print("DB writes per reply: measured with --workers 1 only")
            upstream.stop()
            return
        set_model(model, "burst:100")
        short = asyncio.run(writes_per_reply(base, people[0], model, 100))
        set_model(model, f"burst:{args.long_tokens}")
        long = asyncio.run(writes_per_reply(base, people[0], model, args.long_tokens))
        print(
            f"DB writes per reply (INSERT/UPDATE on messages, incl. the 2 INSERTs of the exchange): "
            f"100 tokens {short:.1f} | {args.long_tokens} tokens {long:.1f}"
        )
    upstream.stop()


if __name__ == "__main__":
    main()
