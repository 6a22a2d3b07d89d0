"""What a plain API request costs the server, a baseline checkout against another, alternated.

A request's own cost, apart from any reply: C clients (keep-alive connections, on the load core)
each make R ``GET --path`` (by default ``/api/v1/user``: authentication, the middleware chain, a
DRF view and a serializer, the least a signed-in request does); the server is pinned to one core,
as in ``capacity.py``, on SQLite or ``--pg`` (PostgreSQL + Redis). With ``--streams M``, M replies
stream meanwhile (100 tokens at 20 tokens/s, the one-request path), so the event loop is busy
relaying tokens, as it is in production; the server's CPU a request then includes theirs, so
compare the latencies.

Each side runs ``--pairs`` times, A B A B..., each run on a server of its own; printed per run and
as medians, with the ratio candidate / baseline of each pair:
  server CPU us per request, request latency p50 / p95 ms.

    .venv/bin/python bench/request_overhead.py --baseline-root /tmp/base --streams 50
"""

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import capacity  # noqa: E402 (the bench's processes, targets and load generator)


def requests_of(port: int, token: str, count: int, path: str) -> list[float]:
    """``count`` GETs on one keep-alive connection; each one's latency in ms."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"authorization": f"Bearer {token}"}
    latencies = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path} answered {response.status}")
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        conn.close()
    return latencies


def one_run(args, root: Path, upstream_port: int, redis_url: str) -> dict:
    args.server_root = root
    with tempfile.TemporaryDirectory(prefix="request-overhead-") as tmp:
        users = max(args.clients, args.streams, 1)
        with capacity.Target(args, upstream_port, args.pg, users, Path(tmp), redis_url) as target:
            streams = None
            if args.streams:
                ramp = args.ttft + args.tokens / args.rate
                job = target.job("bench-real", args.streams, "one", rounds=1000, ramp=ramp)
                job["tokens"] = args.tokens
                streams = threading.Thread(target=lambda: _quiet(capacity.loadgen, args, job), daemon=True)
                streams.start()
                time.sleep(args.ttft + args.tokens / args.rate + 2)  # every stream under way
            requests_of(target.port, target.tokens[0], 20, args.path)  # warm
            pids = capacity.process_tree(target.server.pid)
            cpu0 = capacity.cpu_seconds(pids)
            with ThreadPoolExecutor(args.clients) as pool:
                runs = pool.map(
                    lambda i: requests_of(target.port, target.tokens[i], args.requests, args.path), range(args.clients)
                )
                latencies = sorted(ms for run in runs for ms in run)
            cpu = capacity.cpu_seconds(pids) - cpu0
            count = len(latencies)
    return {
        "cpu_us": cpu / count * 1e6,
        "p50_ms": latencies[count // 2],
        "p95_ms": latencies[int(count * 0.95)],
        "requests": count,
    }


def _quiet(func, *args):
    try:
        func(*args)
    except Exception as error:  # noqa: BLE001 (the background streams end when their server is stopped)
        capacity.log(f"background streams ended: {error}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("--baseline-root", type=Path, required=True, help="checkout of the baseline")
    parser.add_argument("--server-root", type=Path, default=capacity.REPO, help="checkout of the candidate")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL + Redis instead of SQLite")
    parser.add_argument("--path", default="/api/v1/user", help="what each request GETs")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=250, help="requests per client")
    parser.add_argument("--streams", type=int, default=0, help="replies streaming meanwhile")
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    # What capacity.Target and its load generator read.
    defaults = {"plain_server": True, "sql_log": None, "python": str(capacity.REPO / ".venv" / "bin" / "python")}
    defaults |= {"paths": ["one"], "workers": 1, "server_cpus": "0", "load_cpus": "1", "keep_logs": None}
    defaults |= {"ttft": 0.3, "rate": 20.0, "tokens": 100, "timeout": 60.0, "redis_url": ""}
    for name, value in defaults.items():
        setattr(args, name, value)
    roots = {"baseline": args.baseline_root.resolve(), "candidate": args.server_root.resolve()}
    upstream = capacity.CHILDREN.start(
        ["taskset", "-c", args.load_cpus, args.python, str(capacity.BENCH / "fake_upstream.py")],
        stdout=capacity.subprocess.PIPE,
        text=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="request-overhead-redis-"))
    try:
        upstream_port = int(upstream.stdout.readline().split()[1])
        redis_url = capacity.start_own_redis(tmp) if args.pg else ""
        results: dict[str, list[dict]] = {"baseline": [], "candidate": []}
        print(
            f"# request overhead: GET {args.path}, {args.clients} clients x {args.requests} requests, "
            f"{args.streams} streams meanwhile, {'PostgreSQL + Redis' if args.pg else 'SQLite'}"
        )
        for pair in range(args.pairs):
            for side, root in roots.items():
                result = one_run(args, root, upstream_port, redis_url)
                results[side].append(result)
                print(
                    f"pair {pair + 1} {side:>9}: {result['cpu_us']:7.0f} us CPU/request, "
                    f"p50 {result['p50_ms']:6.1f} ms, p95 {result['p95_ms']:6.1f} ms",
                    flush=True,
                )
    finally:
        capacity.CHILDREN.stop_all()
    print("\nmedians, and candidate / baseline pair by pair (median of the ratios):")
    for key, label in (("cpu_us", "us CPU/request"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms")):
        base = [r[key] for r in results["baseline"]]
        cand = [r[key] for r in results["candidate"]]
        ratios = [c / b for b, c in zip(base, cand, strict=True)]
        print(
            f"  {label:>15}: baseline {statistics.median(base):8.1f}  candidate {statistics.median(cand):8.1f}"
            f"  ratio {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
        )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
