"""Capacity benchmark of the reply pipeline, measured from outside against reading the upstream directly.

Processes (all on 127.0.0.1, bounded loops, every child in its own process group, killed on exit):
- the server under test: ``uvicorn config.asgi:application --lifespan on`` from ``--server-root``,
  pinned to core 0 (``taskset -c 0``), on a throw-away SQLite file (migrated first) or, for
  PostgreSQL + Redis, on a fresh database ``bench_<pid>`` (dropped after) and Redis db 3 under the
  prefix ``bench-<pid>``;
- a fake OpenAI-compatible upstream (``bench/fake_upstream.py``), pinned to core 1;
- the load generator (``bench/loadgen.py``), one process per run, pinned to core 1: N clients, each
  R rounds of ``POST /conversations/{id}/messages`` then reading ``stream_url`` to ``message.done``;
  the *direct* reference is the same N clients reading the fake upstream with the same model string.
Users, tokens, the plan and the model rows come from ``bench/bench_setup.py`` run inside the server
root's Django; conversations are made through ``POST /api/v1/conversations``.

Scenarios (``--scenarios a,b,c,d``, all by default):
  a  1 stream, fast upstream (20 tokens at once): added TTFT p50/p95 (service - direct), POST alone
  b  capacity: upstream 300 ms to first token, 20 tokens/s, 100 tokens; N = ``--levels``; 3 rounds
  c  burst: 1 stream, 2,000 tokens as fast as possible: tokens/s through the service vs direct
  d  b at ``--pg-levels`` (N=100) on PostgreSQL + Redis
``--pg`` runs a, b and c on PostgreSQL + Redis too.

    .venv/bin/python bench/capacity.py                       # everything, ~8 minutes
    .venv/bin/python bench/capacity.py --scenarios b --levels 25,50,75,100
    .venv/bin/python bench/capacity.py --server-root /tmp/baseline     # another checkout
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

FAST_MODEL = "ttft=0,rate=0,tokens=20"
BURST_TOKENS = 2000
BURST_MODEL = f"burst:{BURST_TOKENS}"
TARGETS = {"a_p50_ms": 10.0, "b_sqlite": 400, "b_pg": 200, "c_ratio": 0.5}
# Capacity criteria of one level.
MAX_ADDED_P95_MS = 250.0
MIN_DELIVERED_P5 = 0.95
# A level this bad ends the ladder (higher levels would only take long to fail).
BAD_ADDED_P95_MS = 2000.0
BAD_DELIVERED_P5 = 0.5
BAD_ERROR_SHARE = 0.05


def realistic_model(ttft: float, rate: float, tokens: int) -> str:
    return f"ttft={ttft:g},rate={rate:g},tokens={tokens}"


# --- processes ----------------------------------------------------------------------------------


class Children:
    """Every child process group we started; all of them are ended on exit."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self, command: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(command, start_new_session=True, **kwargs)  # noqa: S603 (our own commands)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, grace: float = 10.0) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(5)
        else:  # the leader is gone; make sure nothing of its group is left
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc, grace=5.0)


CHILDREN = Children()
UPSTREAM_PID = [0]


def tool(name: str) -> str:
    return shutil.which(name) or name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants (uvicorn --workers runs the app in children)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = [pid], [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        tree += children
        frontier += children
    return tree


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def machine_busy_seconds() -> float:
    """CPU seconds spent by every process of the machine (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


class Sampler:
    """Server CPU (utime+stime over the wall time) and the largest RSS while it runs."""

    def __init__(self, pid: int):
        self.pid = pid
        self.max_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.2):
            self.max_rss = max(self.max_rss, rss_bytes(process_tree(self.pid)))

    def __enter__(self):
        pids = process_tree(self.pid)
        self.rss_start = rss_bytes(pids)
        self.max_rss = self.rss_start
        self.cpu0, self.t0 = cpu_seconds(pids), time.monotonic()
        self.busy0 = machine_busy_seconds()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        pids = process_tree(self.pid)
        self.cpu = cpu_seconds(pids) - self.cpu0
        self.wall = time.monotonic() - self.t0
        self.busy = machine_busy_seconds() - self.busy0
        self.max_rss = max(self.max_rss, rss_bytes(pids))


# --- the server under test ----------------------------------------------------------------------


class Target:
    """A database, the server on it, the users and their conversations."""

    def __init__(self, args, upstream_port: int, pg: bool, users: int, tmp: Path):
        self.args, self.pg, self.users, self.tmp = args, pg, users, tmp
        self.upstream_base = f"http://127.0.0.1:{upstream_port}/v1"
        self.port = free_port()
        self.server: subprocess.Popen | None = None
        self.db_name = f"bench_{os.getpid()}"
        self.redis_url = "redis://127.0.0.1:6379/3"
        self.redis_prefix = f"bench-{os.getpid()}"
        self.label = "PostgreSQL + Redis" if pg else "SQLite"
        self.env = self._env()
        self.conversations: dict[str, list[int]] = {}
        self.tokens: list[str] = []
        self.models = {
            "bench-fast": FAST_MODEL,
            "bench-real": realistic_model(args.ttft, args.rate, args.tokens),
            "bench-burst": BURST_MODEL,
        }

    def _env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "REDIS_PREFIX")}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.base",
            DJANGO_DEBUG="false",
            LOG_LEVEL="WARNING",
            LOG_FILE=str(self.tmp / f"app-{'pg' if self.pg else 'sqlite'}.log"),
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            JWT_ACCESS_SECONDS="86400",
            THROTTLE_ANON="1000000/min",
            THROTTLE_USER="1000000/min",
            THROTTLE_LOGIN_IP="1000000/min",
            THROTTLE_LOGIN_EMAIL="1000000/min",
            THROTTLE_REGISTER_IP="1000000/min",
            THROTTLE_REFRESH="1000000/min",
            PYTHONUNBUFFERED="1",
        )
        if self.pg:
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{self.db_name}"
            env["REDIS_URL"] = self.redis_url
            env["REDIS_PREFIX"] = self.redis_prefix
        else:
            env["DATABASE_URL"] = f"sqlite:///{self.tmp}/bench.sqlite3"
        return env

    def _run(self, command: list[str], stdin: str | None = None, timeout: float = 300) -> str:
        proc = CHILDREN.start(
            command,
            cwd=self.args.server_root,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        finally:
            CHILDREN.stop(proc)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:4])} failed ({proc.returncode}):\n{err[-3000:]}")
        return out

    def __enter__(self):
        try:
            self._setup()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _setup(self):
        python = self.args.python
        if self.pg:
            subprocess.run(  # noqa: S603
                [tool("createdb"), "-h", "127.0.0.1", "-U", "postgres", self.db_name], check=True, timeout=60
            )
        log(f"[{self.label}] migrate")
        self._run([python, "manage.py", "migrate", "--noinput", "-v", "0"])
        log(f"[{self.label}] users, plan and model rows for {self.users} users")
        job = {"users": self.users, "prefix": "cap", "base_url": self.upstream_base, "models": self.models}
        self.tokens = json.loads(self._run([python, str(BENCH / "bench_setup.py")], json.dumps(job)))["tokens"]
        command = ["taskset", "-c", self.args.server_cpus, python, "-m", "uvicorn", "config.asgi:application"]
        command += ["--lifespan", "on", "--no-access-log", "--log-level", "warning"]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        if self.args.workers > 1:
            command += ["--workers", str(self.args.workers)]
        self.server_log = self.tmp / f"server-{'pg' if self.pg else 'sqlite'}.log"
        with open(self.server_log, "wb") as out:
            self.server = CHILDREN.start(command, cwd=self.args.server_root, env=self.env, stdout=out, stderr=out)
        deadline = time.monotonic() + 60
        while True:
            if self.server.poll() is not None:
                tail = self.server_log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the server exited with {self.server.returncode}:\n{tail}")
            try:
                if server_ready(*api(self.port, "GET", "/healthz")):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer /healthz within 60 s")
            time.sleep(0.2)
        log(f"[{self.label}] server pid {self.server.pid} on port {self.port} (cpus {self.args.server_cpus})")
        self.conversations["bench-real"] = self._conversations("bench-real", range(self.users))
        self.conversations["bench-fast"] = self._conversations("bench-fast", [0])
        self.conversations["bench-burst"] = self._conversations("bench-burst", [0])

    def _conversations(self, slug: str, users) -> list[int]:
        def create(i: int) -> int:
            status, body = api(self.port, "POST", "/api/v1/conversations", {"model": slug}, self.tokens[i])
            if status != 201:
                raise RuntimeError(f"POST /api/v1/conversations answered {status}: {body[:300]}")
            return json.loads(body)["id"]

        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(create, users))

    def clients(self, slug: str, n: int) -> list[dict]:
        ids = self.conversations[slug]
        return [{"token": self.tokens[i], "conversation": ids[i]} for i in range(n)]

    def server_log_summary(self) -> str:
        try:
            text = self.server_log.read_text(errors="replace")
        except (OSError, AttributeError):
            return ""
        tracebacks = text.count("Traceback (most recent call last)")
        last = [line for line in text.splitlines() if line.strip()][-1:] or [""]
        return f"{tracebacks} tracebacks, {len(text.splitlines())} lines; last: {last[0][:160]}" if text else ""

    def __exit__(self, *exc):
        if self.server is not None:
            CHILDREN.stop(self.server)
            self.server = None
            summary = self.server_log_summary()
            if summary:
                print(f"server log ({self.label}): {summary}")
        if self.pg:
            subprocess.run(  # noqa: S603
                [tool("dropdb"), "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", self.db_name],
                timeout=60,
                check=False,
            )
            try:
                import redis

                client = redis.Redis.from_url(self.redis_url)
                keys = list(client.scan_iter(f"*{self.redis_prefix}*", count=1000))
                for start in range(0, len(keys), 500):
                    client.delete(*keys[start : start + 500])
            except Exception as exc:  # noqa: BLE001 (cleanup is best effort)
                log(f"redis cleanup failed: {exc}")


def server_ready(status: int, body: str) -> bool:
    """/healthz says 200, or 503 only for checks the bench does not use (e.g. the local model server)."""
    if status == 200:
        return True
    try:
        checks = json.loads(body)
    except ValueError:
        return False
    return status == 503 and checks.get("database") == "ok" and checks.get("channel_layer", "ok") == "ok"


def api(port: int, method: str, path: str, payload: dict | None = None, token: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, json.dumps(payload) if payload is not None else None, headers)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


# --- load -----------------------------------------------------------------------------------------


def loadgen(args, job: dict) -> dict:
    job = {"host": "127.0.0.1", "timeout": args.timeout, **job}
    command = ["taskset", "-c", args.load_cpus, args.python, str(BENCH / "loadgen.py")]
    proc = CHILDREN.start(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        out, _ = proc.communicate(json.dumps(job), timeout=job.get("ramp", 0) + job["rounds"] * job["timeout"] + 60)
    finally:
        CHILDREN.stop(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"the load generator failed ({proc.returncode})")
    return json.loads(out)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def summarize(result: dict, rate: float | None = None) -> dict:
    replies = result["replies"]
    ttft = [r["ttft_s"] * 1000 for r in replies if r["ttft_s"] is not None]
    post = [r["post_s"] * 1000 for r in replies if r["post_s"] is not None]
    delivered = []
    if rate:
        for r in replies:
            if r["first_s"] is not None and r["tokens"] > 1 and r["last_s"] > r["first_s"]:
                delivered.append((r["tokens"] - 1) / (r["last_s"] - r["first_s"]) / rate)
            else:
                delivered.append(0.0)
    errors = sum(
        1
        for r in replies
        if r["error"] or r["error_events"] or (r["post_status"] is not None and not 200 <= r["post_status"] < 300)
    )
    return {
        "replies": len(replies),
        "ok": sum(1 for r in replies if r["ok"]),
        "errors": errors,
        "error_samples": sorted({r["error"] for r in replies if r["error"]})[:3],
        "lost": sum(r["lost"] for r in replies),
        "dup": sum(r["dup"] for r in replies),
        "reordered": sum(r["reordered"] for r in replies),
        "bad_text": sum(1 for r in replies if not r["text_ok"] and not r["error"]),
        "not_complete": sum(1 for r in replies if r["status"] != "complete" and not r["error"]),
        "snapshots": sum(1 for r in replies if r["snapshot"]),
        "ttft_p50": pct(ttft, 0.5),
        "ttft_p95": pct(ttft, 0.95),
        "post_p50": pct(post, 0.5),
        "post_p95": pct(post, 0.95),
        "delivered_p5": pct(delivered, 0.05),
        "delivered_p50": pct(delivered, 0.5),
        "tokens": sum(r["tokens"] for r in replies),
        "events": sum(r["events"] for r in replies),
        "wall_s": result["wall_s"],
        "loadgen_cpu_s": result["loadgen_cpu_s"],
    }


def log(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


# --- scenarios ------------------------------------------------------------------------------------


def scenario_a(args, target: Target, upstream_port: int) -> dict:
    samples, warmup = args.samples, 3
    clients = target.clients("bench-fast", 1)
    direct = summarize(
        loadgen(
            args,
            {"mode": "direct", "port": upstream_port, "n": 1, "rounds": samples, "model": FAST_MODEL, "tokens": 20},
        )
    )
    loadgen(args, {"mode": "service", "port": target.port, "clients": clients, "rounds": warmup, "tokens": 20})
    service = summarize(
        loadgen(args, {"mode": "service", "port": target.port, "clients": clients, "rounds": samples, "tokens": 20})
    )
    result = {
        "target": target.label,
        "samples": samples,
        "direct_p50": direct["ttft_p50"],
        "direct_p95": direct["ttft_p95"],
        "service_p50": service["ttft_p50"],
        "service_p95": service["ttft_p95"],
        "added_p50": service["ttft_p50"] - direct["ttft_p50"],
        "added_p95": service["ttft_p95"] - direct["ttft_p95"],
        "post_p50": service["post_p50"],
        "post_p95": service["post_p95"],
        "errors": service["errors"] + service["lost"] + service["dup"] + service["reordered"] + service["bad_text"],
        "snapshots": service["snapshots"],
    }
    print(f"\n(a) 1 stream, fast upstream ({FAST_MODEL}), {samples} samples, {target.label}")
    print(f"{'':24}{'p50 ms':>10}{'p95 ms':>10}")
    print(f"{'TTFT direct':24}{result['direct_p50']:10.1f}{result['direct_p95']:10.1f}")
    print(f"{'TTFT service':24}{result['service_p50']:10.1f}{result['service_p95']:10.1f}")
    print(f"{'added TTFT':24}{result['added_p50']:10.1f}{result['added_p95']:10.1f}")
    print(f"{'POST /messages alone':24}{result['post_p50']:10.1f}{result['post_p95']:10.1f}")
    print(
        f"ratio service/direct p50 {result['service_p50'] / max(result['direct_p50'], 1e-3):.1f}x; "
        f"failed replies {result['errors']}, joined late (snapshot) {result['snapshots']}"
    )
    return result


def level_passes(row: dict) -> bool:
    return (
        row["added_p95"] <= MAX_ADDED_P95_MS
        and row["delivered_p5"] >= MIN_DELIVERED_P5
        and not (row["errors"] or row["lost"] or row["dup"] or row["reordered"] or row["bad_text"])
        and not row["not_complete"]
    )


def scenario_b(args, target: Target, upstream_port: int, levels: list[int], name: str) -> dict:
    model = realistic_model(args.ttft, args.rate, args.tokens)
    ramp = args.ramp if args.ramp is not None else args.ttft + args.tokens / args.rate
    rows = []
    print(
        f"\n({name}) capacity, {target.label}, upstream {model}, {args.rounds} rounds, start ramp {ramp:.1f} s, "
        f"server on cpu {args.server_cpus} x{args.workers} worker(s)"
    )
    header = (
        f"{'N':>5} {'TTFT p50/p95 direct':>20} {'service':>14} {'added':>14} {'deliv p5/p50':>13} "
        f"{'err':>4} {'lost':>4} {'dup':>4} {'reord':>5} {'text':>4} {'CPU%':>5} {'us/tok':>6} "
        f"{'RSS MB':>11} {'lg CPU%':>7} {'other%':>6} {'pass':>4}"
    )
    print(header)
    for n in levels:
        direct = summarize(
            loadgen(
                args,
                {
                    "mode": "direct",
                    "port": upstream_port,
                    "n": n,
                    "rounds": args.rounds,
                    "ramp": ramp,
                    "model": model,
                    "tokens": args.tokens,
                },
            ),
            args.rate,
        )
        time.sleep(1)
        job = {
            "mode": "service",
            "port": target.port,
            "clients": target.clients("bench-real", n),
            "rounds": args.rounds,
            "ramp": ramp,
            "tokens": args.tokens,
        }
        upstream_cpu0 = cpu_seconds([UPSTREAM_PID[0]])
        with Sampler(target.server.pid) as sampler:
            service = summarize(loadgen(args, job), args.rate)
        ours = sampler.cpu + service["loadgen_cpu_s"] + cpu_seconds([UPSTREAM_PID[0]]) - upstream_cpu0
        row = {
            "n": n,
            "direct_ttft_p50": direct["ttft_p50"],
            "direct_ttft_p95": direct["ttft_p95"],
            "direct_delivered_p5": direct["delivered_p5"],
            "ttft_p50": service["ttft_p50"],
            "ttft_p95": service["ttft_p95"],
            "added_p50": service["ttft_p50"] - direct["ttft_p50"],
            "added_p95": service["ttft_p95"] - direct["ttft_p95"],
            "post_p50": service["post_p50"],
            "post_p95": service["post_p95"],
            "delivered_p5": service["delivered_p5"],
            "delivered_p50": service["delivered_p50"],
            "cpu_pct": 100 * sampler.cpu / sampler.wall,
            "cpu_us_per_token": 1e6 * sampler.cpu / max(1, service["tokens"]),
            "rss_start_mb": sampler.rss_start / 2**20,
            "rss_max_mb": sampler.max_rss / 2**20,
            "loadgen_cpu_pct": 100 * service["loadgen_cpu_s"] / service["wall_s"],
            "other_cpu_pct": 100 * max(0.0, sampler.busy - ours) / sampler.wall,
            **{
                k: service[k]
                for k in (
                    "replies",
                    "errors",
                    "error_samples",
                    "lost",
                    "dup",
                    "reordered",
                    "bad_text",
                    "not_complete",
                    "snapshots",
                    "events",
                    "tokens",
                    "wall_s",
                )
            },
        }
        row["passes"] = level_passes(row)
        rows.append(row)
        print(
            f"{n:>5} {row['direct_ttft_p50']:9.0f}/{row['direct_ttft_p95']:<6.0f}ms "
            f"{row['ttft_p50']:6.0f}/{row['ttft_p95']:<7.0f}{row['added_p50']:6.0f}/{row['added_p95']:<7.0f}"
            f"{row['delivered_p5']:6.2f}/{row['delivered_p50']:<4.2f}x "
            f"{row['errors']:>4} {row['lost']:>4} {row['dup']:>4} {row['reordered']:>5} {row['bad_text']:>4} "
            f"{row['cpu_pct']:5.0f} {row['cpu_us_per_token']:6.0f} "
            f"{row['rss_start_mb']:5.0f}/{row['rss_max_mb']:<5.0f} {row['loadgen_cpu_pct']:7.0f} "
            f"{row['other_cpu_pct']:6.0f} "
            f"{'yes' if row['passes'] else 'no':>4}",
            flush=True,
        )
        if row["other_cpu_pct"] > 10 and not target.pg:  # with --pg, PostgreSQL and Redis count as "other"
            other = row["other_cpu_pct"]
            print(f"      warning: other processes of the machine used {other:.0f} % of a core meanwhile")
        if row["error_samples"]:
            print(f"      errors: {row['error_samples']}")
        if direct["delivered_p5"] < MIN_DELIVERED_P5 or direct["errors"]:
            print(
                f"      warning: the direct reference itself delivered p5 {direct['delivered_p5']:.2f}x with "
                f"{direct['errors']} errors: the load generator or the upstream is saturated"
            )
        bad = (
            row["added_p95"] > BAD_ADDED_P95_MS
            or row["delivered_p5"] < BAD_DELIVERED_P5
            or row["errors"] > BAD_ERROR_SHARE * row["replies"]
        )
        if bad and n != levels[-1]:
            print(f"      level N={n} failed badly: stopping the ladder here")
            break
        time.sleep(1)
    passing = [row["n"] for row in rows if row["passes"]]
    capacity = max(passing) if passing else 0
    print(
        f"capacity ({target.label}, {args.workers} worker(s)): {capacity} concurrent replies "
        f"(p95 added TTFT <= {MAX_ADDED_P95_MS:.0f} ms, delivered p5 >= {MIN_DELIVERED_P5}x, no errors/lost/dup/"
        f"reordered)"
    )
    return {"target": target.label, "levels": rows, "capacity": capacity, "model": model, "ramp": ramp}


def scenario_c(args, target: Target, upstream_port: int) -> dict:
    rounds = 3
    clients = target.clients("bench-burst", 1)
    direct = loadgen(
        args,
        {
            "mode": "direct",
            "port": upstream_port,
            "n": 1,
            "rounds": rounds,
            "model": BURST_MODEL,
            "tokens": BURST_TOKENS,
        },
    )
    loadgen(args, {"mode": "service", "port": target.port, "clients": clients, "rounds": 1, "tokens": BURST_TOKENS})
    service = loadgen(
        args, {"mode": "service", "port": target.port, "clients": clients, "rounds": rounds, "tokens": BURST_TOKENS}
    )

    def rate(result):
        return pct([r["tokens"] / r["last_s"] for r in result["replies"] if r["last_s"]], 0.5)

    summary = summarize(service)
    result = {
        "target": target.label,
        "direct_tps": rate(direct),
        "service_tps": rate(service),
        "events": summary["events"] / max(1, summary["replies"]),
        "snapshots": summary["snapshots"],
        "failed": summary["replies"] - summary["ok"],
    }
    result["ratio"] = result["service_tps"] / result["direct_tps"]
    print(f"\n(c) burst, 1 stream, {BURST_TOKENS} tokens as fast as possible, {target.label} (median of {rounds})")
    print(f"{'direct':10}{result['direct_tps']:12.0f} tokens/s")
    print(
        f"{'service':10}{result['service_tps']:12.0f} tokens/s  ({result['events']:.0f} SSE events per reply, "
        f"{result['snapshots']} joined late (snapshot), {result['failed']} failed)"
    )
    print(f"{'ratio':10}{result['ratio']:12.3f}x")
    return result


# --- main -----------------------------------------------------------------------------------------


def parse_levels(text: str) -> list[int]:
    levels = sorted({int(x) for x in text.split(",") if x.strip()})
    if not levels or levels[0] < 1 or levels[-1] > 2000:
        raise argparse.ArgumentTypeError("levels between 1 and 2000")
    return levels


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("--scenarios", default="a,b,c,d", help="comma-separated subset of a,b,c,d")
    parser.add_argument("--levels", type=parse_levels, default=parse_levels("25,50,100,200,400"))
    parser.add_argument("--pg-levels", type=parse_levels, default=parse_levels("100"), help="levels of scenario d")
    parser.add_argument("--pg", action="store_true", help="run a, b and c on PostgreSQL + Redis instead of SQLite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=40, help="samples of scenario a")
    parser.add_argument("--ttft", type=float, default=0.3, help="upstream time to first token of b/d (s)")
    parser.add_argument("--rate", type=float, default=20.0, help="upstream tokens/s of b/d")
    parser.add_argument("--tokens", type=int, default=100, help="tokens per reply of b/d")
    parser.add_argument(
        "--ramp",
        type=float,
        default=None,
        help="client i starts at i*ramp/N s (default: one reply's duration, i.e. steady state)",
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="per reply (s)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (>1 needs --pg)")
    parser.add_argument("--server-cpus", default="0", help="taskset cpu list of the server")
    parser.add_argument("--load-cpus", default="1", help="taskset cpu list of the upstream and load generator")
    parser.add_argument("--server-root", type=Path, default=REPO, help="checkout the server runs from")
    parser.add_argument("--python", default=str(REPO / ".venv" / "bin" / "python"), help="interpreter of the server")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args()
    scenarios = {s.strip() for s in args.scenarios.split(",") if s.strip()}
    if not scenarios <= {"a", "b", "c", "d"}:
        parser.error("--scenarios takes a subset of a,b,c,d")
    if not 1 <= args.workers <= 8:
        parser.error("keep --workers between 1 and 8")
    if args.workers > 1 and not args.pg and scenarios & {"a", "b", "c"}:
        parser.error("--workers > 1 needs --pg (events cross worker processes through Redis)")
    if not 1 <= args.rounds <= 20 or not 1 <= args.samples <= 500 or args.rate <= 0 or args.tokens < 2:
        parser.error("keep --rounds in 1..20, --samples in 1..500, --rate > 0, --tokens >= 2")
    args.server_root = args.server_root.resolve()
    if not (args.server_root / "manage.py").is_file():
        parser.error(f"{args.server_root} has no manage.py")

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        os.sched_setaffinity(0, {int(c) for c in args.load_cpus.split(",")})
    except (OSError, ValueError):
        pass
    commit = subprocess.run(  # noqa: S603
        ["git", "-C", str(args.server_root), "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(  # noqa: S603
        ["git", "-C", str(args.server_root), "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    print(
        f"# capacity bench {time.strftime('%Y-%m-%d %H:%M')}  server root {args.server_root} at {commit}"
        f"{' (+uncommitted changes)' if dirty else ''}, {os.cpu_count()} cpus"
    )
    tmp = Path(tempfile.mkdtemp(prefix="capacity-bench-"))
    report: dict = {
        "commit": commit,
        "dirty": bool(dirty),
        "date": time.strftime("%Y-%m-%d"),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    started = time.monotonic()
    try:
        upstream = CHILDREN.start(
            ["taskset", "-c", args.load_cpus, args.python, str(BENCH / "fake_upstream.py")],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = upstream.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError("the fake upstream did not start")
        upstream_port = int(line.split()[1])
        UPSTREAM_PID[0] = upstream.pid
        if scenarios & {"a", "b", "c"}:
            users = max(args.levels) if "b" in scenarios else 1
            with Target(args, upstream_port, args.pg, users, tmp) as target:
                if "a" in scenarios:
                    report["a"] = scenario_a(args, target, upstream_port)
                if "b" in scenarios:
                    report["b"] = scenario_b(args, target, upstream_port, args.levels, "b")
                if "c" in scenarios:
                    report["c"] = scenario_c(args, target, upstream_port)
        if "d" in scenarios:
            with Target(args, upstream_port, True, max(args.pg_levels), tmp) as target:
                report["d"] = scenario_b(args, target, upstream_port, args.pg_levels, "d")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        CHILDREN.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n# summary ({time.monotonic() - started:.0f} s; server at {commit}, {args.workers} worker(s))")
    if "a" in report:
        a = report["a"]
        ok = a["added_p50"] <= TARGETS["a_p50_ms"] and not a["errors"]
        print(
            f"(a) added TTFT p50 {a['added_p50']:.1f} ms (p95 {a['added_p95']:.1f}), target <= "
            f"{TARGETS['a_p50_ms']:.0f} ms: {'MET' if ok else 'NOT MET'}"
        )
    if "c" in report:
        c = report["c"]
        ok = c["ratio"] >= TARGETS["c_ratio"] and not c["failed"]
        print(
            f"(c) burst {c['service_tps']:.0f} vs {c['direct_tps']:.0f} tokens/s direct = {c['ratio']:.3f}x, "
            f"target >= {TARGETS['c_ratio']}x: {'MET' if ok else 'NOT MET'}"
        )
    for key in ("b", "d"):
        if key in report:
            b = report[key]
            goal = TARGETS["b_pg" if "Postgre" in b["target"] else "b_sqlite"] * args.workers
            tested = max(row["n"] for row in b["levels"])
            verdict = (
                "MET"
                if b["capacity"] >= goal
                else (
                    "NOT MET"
                    if tested >= goal or b["capacity"] < tested
                    else f"not decided (highest level tested {tested})"
                )
            )
            print(
                f"({key}) capacity on {b['target']}: {b['capacity']} (levels {[r['n'] for r in b['levels']]}), "
                f"target >= {goal}: {verdict}"
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
