"""Capacity benchmark of the reply pipeline, measured from outside against reading the upstream directly.

Processes (all on 127.0.0.1, bounded loops, every child in its own process group, killed on exit):
- the server under test: ``uvicorn counted_asgi:application --lifespan on`` from ``--server-root``
  (``bench/counting/counted_asgi.py``: the root's own ``config.asgi:application`` with its SQL
  statements counted; ``--plain-server`` serves ``config.asgi:application`` itself), pinned to core 0
  (``taskset -c 0``), on a throw-away SQLite file (migrated first) or, for PostgreSQL + Redis, on a
  fresh database ``bench_<pid>`` (dropped after) and a Redis server of the bench's own (a
  ``redis-server`` on a free port, no persistence, so its command counts are the server's alone;
  ``--redis-url`` uses another, keys under the prefix ``bench-<pid>``);
- a fake OpenAI-compatible upstream (``bench/fake_upstream.py``), pinned to core 1;
- the load generator (``bench/loadgen.py``), one process per run, pinned to core 1: N clients, each
  R rounds of a reply, on each path of ``--paths``:
  ``two``: ``POST /conversations/{id}/messages`` then reading ``stream_url`` to ``message.done``;
  ``one``: the same POST with ``Accept: text/event-stream``, read from its own answer
  (``message.created`` first); the *direct* reference is the same N clients reading the fake
  upstream with the same model string.
Users, tokens, the plan and the model rows come from ``bench/bench_setup.py`` run inside the server
root's Django; conversations are made through ``POST /api/v1/conversations`` (one per client and path).

Scenarios (``--scenarios a,b,c,d``, all by default), each on every path of ``--paths`` (``two,one``):
  a  1 stream, fast upstream (20 tokens at once): added TTFT p50/p95 (service - direct), POST alone
  b  capacity: upstream 300 ms to first token, 20 tokens/s, 100 tokens; N = ``--levels``; 3 rounds;
     with what each reply cost (server CPU, SQL statements, commits, Redis commands, bytes)
  c  burst: 1 stream, 2,000 tokens as fast as possible: tokens/s through the service vs direct
  d  b at ``--pg-levels`` (N=100) on PostgreSQL + Redis
``--pg`` runs a, b and c on PostgreSQL + Redis too.

    .venv/bin/python bench/capacity.py                       # everything, ~12 minutes
    .venv/bin/python bench/capacity.py --scenarios b --levels 25,50,75,100 --paths one
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
# Issue 25's targets: (a) on the one-request path; (b) per server core, both paths; RSS at N=400.
TARGETS = {"a_one_p50_ms": 5.0, "b_sqlite": 400, "b_pg": 300, "c_ratio": 0.7, "rss_mb_at_400": 300}
PATHS = {"two": "2 requests", "one": "1 request"}
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

    def __init__(self, args, upstream_port: int, pg: bool, users: int, tmp: Path, redis_url: str = ""):
        self.args, self.pg, self.users, self.tmp = args, pg, users, tmp
        self.upstream_base = f"http://127.0.0.1:{upstream_port}/v1"
        self.port = free_port()
        self.server: subprocess.Popen | None = None
        self.db_name = f"bench_{os.getpid()}"
        self.redis_url = redis_url
        self.redis_prefix = f"bench-{os.getpid()}"
        self.label = "PostgreSQL + Redis" if pg else "SQLite"
        self.sqlite_path = tmp / "bench.sqlite3"
        self.sql_dir = None if args.plain_server else tmp / f"sql-{'pg' if pg else 'sqlite'}"
        self.env = self._env(args)
        self.conversations: dict[tuple[str, str], list[str]] = {}
        self.tokens: list[str] = []
        self.models = {
            "bench-fast": FAST_MODEL,
            "bench-real": realistic_model(args.ttft, args.rate, args.tokens),
            "bench-burst": BURST_MODEL,
        }

    def _env(self, args) -> dict:
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
        if self.sql_dir is not None:
            self.sql_dir.mkdir(exist_ok=True)
            env["BENCH_SQL_DIR"] = str(self.sql_dir)
            if args.sql_log:
                env["BENCH_SQL_LOG"] = str(args.sql_log)
        if self.pg:
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{self.db_name}"
            env["REDIS_URL"] = self.redis_url
            env["REDIS_PREFIX"] = self.redis_prefix
        else:
            env["DATABASE_URL"] = f"sqlite:///{self.sqlite_path}"
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
        app = "config.asgi:application" if self.sql_dir is None else "counted_asgi:application"
        command = ["taskset", "-c", self.args.server_cpus, python, "-m", "uvicorn", app]
        command += ["--lifespan", "on", "--no-access-log", "--log-level", "warning"]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        if self.args.workers > 1:
            command += ["--workers", str(self.args.workers)]
        self.server_log = self.tmp / f"server-{'pg' if self.pg else 'sqlite'}.log"
        env = dict(self.env)
        if self.sql_dir is not None:  # counted_asgi from here; the server root stays first on sys.path
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH / "counting"), env.get("PYTHONPATH")]))
        with open(self.server_log, "wb") as out:
            self.server = CHILDREN.start(command, cwd=self.args.server_root, env=env, stdout=out, stderr=out)
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
        for path in self.args.paths:  # a conversation per client and path: the paths' histories grow alike
            self.conversations["bench-real", path] = self._conversations("bench-real", range(self.users))
            self.conversations["bench-fast", path] = self._conversations("bench-fast", [0])
            self.conversations["bench-burst", path] = self._conversations("bench-burst", [0])

    def _conversations(self, slug: str, users) -> list[str]:
        def create(i: int) -> str:
            status, body = api(self.port, "POST", "/api/v1/conversations", {"model": slug}, self.tokens[i])
            if status != 201:
                raise RuntimeError(f"POST /api/v1/conversations answered {status}: {body[:300]}")
            return json.loads(body)["id"]

        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(create, users))

    def clients(self, slug: str, n: int, path: str) -> list[dict]:
        ids = self.conversations[slug, path]
        return [{"token": self.tokens[i], "conversation": ids[i]} for i in range(n)]

    def job(self, slug: str, n: int, path: str, **fields) -> dict:
        """A load generator job of the service on ``path``."""
        clients = self.clients(slug, n, path)
        return {"mode": "service", "port": self.port, "clients": clients, "one_request": path == "one", **fields}

    def server_log_summary(self) -> str:
        try:
            text = self.server_log.read_text(errors="replace")
        except (OSError, AttributeError):
            return ""
        tracebacks = text.count("Traceback (most recent call last)")
        last = [line for line in text.splitlines() if line.strip()][-1:] or [""]
        summary = f"{tracebacks} tracebacks, {len(text.splitlines())} lines; last: {last[0][:160]}" if text else ""
        if tracebacks:  # the first one, whole, with the log line before it
            start = text.index("Traceback (most recent call last)")
            start = text.rfind("\n", 0, max(0, text.rfind("\n", 0, start))) + 1
            end = text.find("\n\n", start)
            lines = text[start : end if end > 0 else None].splitlines()
            first = "\n".join(lines[:2] + (["    ..."] if len(lines) > 42 else []) + lines[2:][-40:])
            summary += "\nthe first traceback:\n" + first
        if self.args.keep_logs:
            self.args.keep_logs.mkdir(parents=True, exist_ok=True)
            shutil.copy(self.server_log, self.args.keep_logs / self.server_log.name)
        return summary

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


# --- what a reply costs -----------------------------------------------------------------------------

OWN_REDIS: list[subprocess.Popen | None] = [None]


def start_own_redis(tmp: Path) -> str:
    """A Redis server of the bench's own (no persistence, on a free port): its ``INFO`` counts are
    the server under test's alone. Returns its URL."""
    port = free_port()
    command = [tool("redis-server"), "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    command += ["--dir", str(tmp), "--loglevel", "warning"]
    OWN_REDIS[0] = CHILDREN.start(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or OWN_REDIS[0].poll() is not None:
                raise RuntimeError("the bench's own redis-server did not start") from None
            time.sleep(0.1)
    log(f"own redis-server pid {OWN_REDIS[0].pid} on port {port}")
    return f"redis://127.0.0.1:{port}/0"


def io_write_bytes(pids: list[int]) -> int:
    """Bytes the processes caused to be written to storage (``/proc/<pid>/io`` write_bytes: counted
    when a page is first dirtied, so a page rewritten before it reaches the disk counts once)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/io").read_text().splitlines():
                if line.startswith("write_bytes:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


class Costs:
    """Counters read before and after a run of replies; ``delta`` is what the run cost in all.

    - the server: CPU (utime+stime of its process tree), bytes written to storage, SQL statements
      by kind and thread, and their time in the driver (``bench/counting/counted_asgi.py``);
    - SQLite: the database file's and its WAL's size;
    - PostgreSQL (the bench's database): commits and rows from ``pg_stat_database`` (a backend
      reports them at most once a second, an idle one within 10 s, hence ``settle``), the CPU of
      the database's backends, and the cluster's WAL (``pg_current_wal_lsn``: every database's);
    - Redis: commands by name (``INFO commandstats``, without the bench's own ``INFO``), bytes in
      and out (``total_net_input_bytes``/``output``) and its CPU (``used_cpu_user``+``sys``).
    """

    def __init__(self, target: "Target"):
        self.target = target
        self.pg = self.redis = None
        if target.pg:
            import psycopg
            import redis

            self.pg = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
            self.redis = redis.Redis.from_url(target.redis_url)

    def close(self):
        if self.pg is not None:
            self.pg.close()

    def snapshot(self) -> dict:
        target = self.target
        pids = process_tree(target.server.pid)
        snap: dict = {"server_cpu": cpu_seconds(pids), "server_write_bytes": io_write_bytes(pids), "sql": {}}
        snap["sql_s"] = {}
        if target.sql_dir is not None:
            for path in target.sql_dir.glob("*.json"):
                try:
                    data = json.loads(path.read_text())
                except (OSError, ValueError):
                    continue
                for key, value in data["counts"].items():
                    snap["sql"][key] = snap["sql"].get(key, 0) + value
                for key, value in data["seconds"].items():
                    snap["sql_s"][key] = snap["sql_s"].get(key, 0.0) + value
        if not target.pg:
            snap["sqlite_bytes"] = sum(
                Path(f"{target.sqlite_path}{suffix}").stat().st_size
                for suffix in ("", "-wal")
                if Path(f"{target.sqlite_path}{suffix}").exists()
            )
            return snap
        row = self.pg.execute(
            "SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted,"
            " pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint FROM pg_stat_database WHERE datname = %s",
            [target.db_name],
        ).fetchone()
        names = ("commits", "rollbacks", "returned", "fetched", "inserted", "updated", "deleted", "wal_bytes")
        snap["pg"] = dict(zip(names, (int(x) for x in row), strict=True))
        backends = self.pg.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [target.db_name]
        ).fetchall()
        snap["pg_cpu"] = {pid: cpu_seconds([pid]) for (pid,) in backends}
        stats = self.redis.info("commandstats")
        snap["redis_cmds"] = {
            name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items() if name != "cmdstat_info"
        }
        info = self.redis.info()
        snap["redis"] = {
            "in_bytes": info["total_net_input_bytes"],
            "out_bytes": info["total_net_output_bytes"],
            "cpu_s": info["used_cpu_user"] + info["used_cpu_sys"],
        }
        return snap

    def settle(self, limit: float) -> dict:
        """A snapshot once the statements and commits stop moving (two reads 1 s apart), at most
        ``limit`` s: the replies' last writes land, and PostgreSQL's idle backends report."""
        started = time.monotonic()
        last = self.snapshot()
        while time.monotonic() < started + limit:
            time.sleep(1.0)
            now = self.snapshot()
            if now["sql"] == last["sql"] and now.get("pg", {}).get("commits") == last.get("pg", {}).get("commits"):
                log(f"counters settled in {time.monotonic() - started:.1f} s")
                return now
            last = now
        log(f"counters still moving after {limit:.0f} s (--settle): read as they are")
        return last

    @staticmethod
    def delta(before: dict, after: dict) -> dict:
        out = {
            "server_cpu_s": after["server_cpu"] - before["server_cpu"],
            "server_write_bytes": after["server_write_bytes"] - before["server_write_bytes"],
            "sql": {k: v - before["sql"].get(k, 0) for k, v in after["sql"].items() if v - before["sql"].get(k, 0)},
            "sql_s": {k: v - before["sql_s"].get(k, 0.0) for k, v in after["sql_s"].items()},
        }
        if "sqlite_bytes" in after:
            out["sqlite_growth_bytes"] = after["sqlite_bytes"] - before["sqlite_bytes"]
        if "pg" in after:
            out["pg"] = {k: v - before["pg"][k] for k, v in after["pg"].items()}
            out["pg_cpu_s"] = sum(cpu - before["pg_cpu"].get(pid, 0.0) for pid, cpu in after["pg_cpu"].items())
            cmds = {k: v - before["redis_cmds"].get(k, 0) for k, v in after["redis_cmds"].items()}
            out["redis_cmds"] = {k: v for k, v in cmds.items() if v}
            out["redis"] = {k: v - before["redis"][k] for k, v in after["redis"].items()}
        return out


def per_reply(cost: dict, replies: int, tokens: int, service: dict) -> dict:
    """What one reply cost, from a run's ``Costs.delta`` and its load generator summary."""
    n = max(1, replies)
    sql = cost["sql"]
    row = {
        "replies": replies,
        "cpu_ms": 1e3 * cost["server_cpu_s"] / n,
        "cpu_us_per_token": 1e6 * cost["server_cpu_s"] / max(1, tokens),
        "sql": sum(sql.values()) / n,
        "sql_request": sum(v for k, v in sql.items() if k.startswith("request:")) / n,
        "sql_background": sum(v for k, v in sql.items() if k.startswith("background:")) / n,
        "sql_kinds": {},
        "sql_tables": {},
        "sql_ms": 1e3 * sum(cost["sql_s"].values()) / n,
        "client_in_bytes": service["received_bytes"] / n,
        "client_out_bytes": service["sent_bytes"] / n,
        "server_write_bytes": cost["server_write_bytes"] / n,
    }
    for key, value in sql.items():
        _where, kind, table = (key.split(":") + ["", ""])[:3]
        row["sql_kinds"][kind] = row["sql_kinds"].get(kind, 0) + value / n
        name = f"{kind} {table}".strip()
        row["sql_tables"][name] = row["sql_tables"].get(name, 0) + value / n
    if "sqlite_growth_bytes" in cost:
        row["sqlite_growth_bytes"] = cost["sqlite_growth_bytes"] / n
    if "pg" in cost:
        row["pg_commits"] = cost["pg"]["commits"] / n
        row["pg_rows_written"] = (cost["pg"]["inserted"] + cost["pg"]["updated"] + cost["pg"]["deleted"]) / n
        row["pg_wal_bytes"] = cost["pg"]["wal_bytes"] / n
        row["pg_cpu_ms"] = 1e3 * cost["pg_cpu_s"] / n
        row["redis_cmds"] = sum(cost["redis_cmds"].values()) / n
        row["redis_top"] = sorted(((v / n, k) for k, v in cost["redis_cmds"].items()), reverse=True)[:6]
        row["redis_in_bytes"] = cost["redis"]["in_bytes"] / n
        row["redis_out_bytes"] = cost["redis"]["out_bytes"] / n
        row["redis_cpu_ms"] = 1e3 * cost["redis"]["cpu_s"] / n
    return row


def print_costs(rows: list[dict], pg: bool) -> None:
    """The per-reply cost table of a scenario's levels (one row per level and path)."""
    print(
        "\nwhat one reply cost, from before the level's first request to when its statements stopped moving:\n"
        "CPU ms / us/tok = server CPU (process tree) per reply / per delivered token; SQL = statements (req/bg: in\n"
        "request threads / on the replies' background thread), drv ms = their time in the driver; client KB\n"
        "in/out = bytes the load generator received/sent (heads, chunk framing, bodies)"
        + (
            ";\ncommits, rows wr(itten) = pg_stat_database of the bench's database; WAL KB = the cluster's WAL;\n"
            "PG ms = CPU of the database's backends; Redis = commands, KB in/out = its network bytes, R ms = its CPU"
            if pg
            else ";\ngrew KB = growth of the SQLite file + WAL; disk KB = bytes the server dirtied on storage "
            "(/proc/<pid>/io write_bytes)"
        )
    )
    head = f"{'path':>10} {'N':>5} {'replies':>7} {'CPU ms':>7} {'us/tok':>6} {'SQL':>6} {'req/bg':>11} {'drv ms':>6}"
    head += f" {'client KB in/out':>16}"
    if pg:
        head += f" {'commits':>7} {'rows wr':>7} {'WAL KB':>7} {'PG ms':>6} {'Redis':>6} {'KB in/out':>11} {'R ms':>5}"
    else:
        head += f" {'grew KB':>7} {'disk KB':>7}"
    print(head)
    for row in rows:
        c = row["cost"]
        line = (
            f"{PATHS[row['path']]:>10} {row['n']:>5} {c['replies']:>7} {c['cpu_ms']:7.2f} {c['cpu_us_per_token']:6.0f} "
            f"{c['sql']:6.1f} {c['sql_request']:5.1f}/{c['sql_background']:<5.1f} {c['sql_ms']:6.2f} "
            f"{c['client_in_bytes'] / 1024:8.1f}/{c['client_out_bytes'] / 1024:<7.2f}"
        )
        if pg:
            line += (
                f" {c['pg_commits']:7.1f} {c['pg_rows_written']:7.1f} {c['pg_wal_bytes'] / 1024:7.1f} "
                f"{c['pg_cpu_ms']:6.2f} {c['redis_cmds']:6.0f} {c['redis_in_bytes'] / 1024:5.1f}/"
                f"{c['redis_out_bytes'] / 1024:<5.1f} {c['redis_cpu_ms']:5.2f}"
            )
        else:
            line += f" {c['sqlite_growth_bytes'] / 1024:7.1f} {c['server_write_bytes'] / 1024:7.1f}"
        print(line)
    for row in rows:
        c = row["cost"]
        kinds = ", ".join(f"{k} {v:.1f}" for k, v in sorted(c["sql_kinds"].items(), key=lambda kv: -kv[1]))
        print(f"  {PATHS[row['path']]}, N={row['n']}: statements {kinds or '(not counted: --plain-server)'}")
        tables = sorted(c["sql_tables"].items(), key=lambda kv: -kv[1])
        if tables:
            print(f"  {'':{len(PATHS[row['path']])}}        by table: {', '.join(f'{k} {v:.2f}' for k, v in tables)}")
        if pg:
            commands = ", ".join(f"{k} {v:.1f}" for v, k in c["redis_top"])
            print(f"  {PATHS[row['path']]}, N={row['n']}: Redis commands {commands}")


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
        "sent_bytes": sum(r.get("sent_bytes", 0) for r in replies),
        "received_bytes": sum(r.get("received_bytes", 0) for r in replies),
    }


def log(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


# --- scenarios ------------------------------------------------------------------------------------


def scenario_a(args, target: Target, upstream_port: int) -> dict:
    samples, warmup = args.samples, 3
    direct = summarize(
        loadgen(
            args,
            {"mode": "direct", "port": upstream_port, "n": 1, "rounds": samples, "model": FAST_MODEL, "tokens": 20},
        )
    )
    result: dict = {
        "target": target.label,
        "samples": samples,
        "direct_p50": direct["ttft_p50"],
        "direct_p95": direct["ttft_p95"],
        "paths": {},
    }
    for path in args.paths:
        loadgen(args, target.job("bench-fast", 1, path, rounds=warmup, tokens=20))
        service = summarize(loadgen(args, target.job("bench-fast", 1, path, rounds=samples, tokens=20)))
        result["paths"][path] = {
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
    print(f"{'':34}{'p50 ms':>10}{'p95 ms':>10}")
    print(f"{'TTFT direct':34}{result['direct_p50']:10.1f}{result['direct_p95']:10.1f}")
    for path, r in result["paths"].items():
        post = "POST /messages alone" if path == "two" else "POST to message.created"
        print(f"{'TTFT, ' + PATHS[path]:34}{r['service_p50']:10.1f}{r['service_p95']:10.1f}")
        print(f"{'added TTFT, ' + PATHS[path]:34}{r['added_p50']:10.1f}{r['added_p95']:10.1f}")
        print(f"{post + ', ' + PATHS[path]:34}{r['post_p50']:10.1f}{r['post_p95']:10.1f}")
        print(
            f"{'':4}ratio service/direct p50 {r['service_p50'] / max(result['direct_p50'], 1e-3):.1f}x; "
            f"failed replies {r['errors']}, joined late (snapshot) {r['snapshots']}"
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
        f"server on cpu {args.server_cpus} x{args.workers} worker(s), paths {', '.join(PATHS[p] for p in args.paths)}"
    )
    header = (
        f"{'path':>10} {'N':>5} {'TTFT p50/p95 direct':>20} {'service':>14} {'added':>14} {'deliv p5/p50':>13} "
        f"{'err':>4} {'lost':>4} {'dup':>4} {'reord':>5} {'text':>4} {'CPU%':>5} {'us/tok':>6} "
        f"{'RSS MB':>11} {'lg CPU%':>7} {'other%':>6} {'pass':>4}"
    )
    print(header)
    costs = Costs(target)
    paths = list(args.paths)
    try:
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
            if direct["delivered_p5"] < MIN_DELIVERED_P5 or direct["errors"]:
                print(
                    f"      warning: the direct reference itself delivered p5 {direct['delivered_p5']:.2f}x with "
                    f"{direct['errors']} errors: the load generator or the upstream is saturated"
                )
            for path in list(paths):
                time.sleep(1)
                job = target.job("bench-real", n, path, rounds=args.rounds, ramp=ramp, tokens=args.tokens)
                upstream_cpu0 = cpu_seconds([UPSTREAM_PID[0]])
                before = costs.snapshot()
                with Sampler(target.server.pid) as sampler:
                    service = summarize(loadgen(args, job), args.rate)
                ours = sampler.cpu + service["loadgen_cpu_s"] + cpu_seconds([UPSTREAM_PID[0]]) - upstream_cpu0
                cost = Costs.delta(before, costs.settle(args.settle))
                ours += cost.get("pg_cpu_s", 0.0) + cost.get("redis", {}).get("cpu_s", 0.0)
                row = level_row(n, path, direct, service, sampler, ours)
                row["cost"] = per_reply(cost, service["replies"], service["tokens"], service)
                rows.append(row)
                print_level(row, target)
                bad = (
                    row["added_p95"] > BAD_ADDED_P95_MS
                    or row["delivered_p5"] < BAD_DELIVERED_P5
                    or row["errors"] > BAD_ERROR_SHARE * row["replies"]
                )
                if bad and n != levels[-1]:
                    print(f"      level N={n} failed badly on the {PATHS[path]} path: no higher level on it")
                    paths.remove(path)
            if not paths:
                break
    finally:
        costs.close()
    print_costs(rows, target.pg)
    capacity = {}
    for path in args.paths:
        passing = [row["n"] for row in rows if row["passes"] and row["path"] == path]
        capacity[path] = max(passing) if passing else 0
        print(
            f"capacity ({target.label}, {args.workers} worker(s), {PATHS[path]}): {capacity[path]} concurrent replies "
            f"(p95 added TTFT <= {MAX_ADDED_P95_MS:.0f} ms, delivered p5 >= {MIN_DELIVERED_P5}x, no errors/lost/dup/"
            f"reordered)"
        )
    return {"target": target.label, "levels": rows, "capacity": capacity, "model": model, "ramp": ramp}


def level_row(n: int, path: str, direct: dict, service: dict, sampler: Sampler, ours: float) -> dict:
    row = {
        "n": n,
        "path": path,
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
    return row


def print_level(row: dict, target: Target) -> None:
    print(
        f"{PATHS[row['path']]:>10} {row['n']:>5} {row['direct_ttft_p50']:9.0f}/{row['direct_ttft_p95']:<6.0f}ms "
        f"{row['ttft_p50']:6.0f}/{row['ttft_p95']:<7.0f}{row['added_p50']:6.0f}/{row['added_p95']:<7.0f}"
        f"{row['delivered_p5']:6.2f}/{row['delivered_p50']:<4.2f}x "
        f"{row['errors']:>4} {row['lost']:>4} {row['dup']:>4} {row['reordered']:>5} {row['bad_text']:>4} "
        f"{row['cpu_pct']:5.0f} {row['cpu_us_per_token']:6.0f} "
        f"{row['rss_start_mb']:5.0f}/{row['rss_max_mb']:<5.0f} {row['loadgen_cpu_pct']:7.0f} "
        f"{row['other_cpu_pct']:6.0f} "
        f"{'yes' if row['passes'] else 'no':>4}",
        flush=True,
    )
    if row["other_cpu_pct"] > 10:  # PostgreSQL's backends and the bench's Redis are not "other"
        other = row["other_cpu_pct"]
        print(f"      warning: other processes of the machine used {other:.0f} % of a core meanwhile")
    if row["error_samples"]:
        print(f"      errors: {row['error_samples']}")


def scenario_c(args, target: Target, upstream_port: int) -> dict:
    rounds = 3
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

    def rate(result):
        return pct([r["tokens"] / r["last_s"] for r in result["replies"] if r["last_s"]], 0.5)

    result: dict = {"target": target.label, "direct_tps": rate(direct), "paths": {}}
    print(f"\n(c) burst, 1 stream, {BURST_TOKENS} tokens as fast as possible, {target.label} (median of {rounds})")
    print(f"{'direct':14}{result['direct_tps']:12.0f} tokens/s")
    for path in args.paths:
        loadgen(args, target.job("bench-burst", 1, path, rounds=1, tokens=BURST_TOKENS))
        service = loadgen(args, target.job("bench-burst", 1, path, rounds=rounds, tokens=BURST_TOKENS))
        summary = summarize(service)
        r = {
            "service_tps": rate(service),
            "events": summary["events"] / max(1, summary["replies"]),
            "snapshots": summary["snapshots"],
            "failed": summary["replies"] - summary["ok"],
        }
        r["ratio"] = r["service_tps"] / result["direct_tps"]
        result["paths"][path] = r
        print(
            f"{PATHS[path]:14}{r['service_tps']:12.0f} tokens/s  = {r['ratio']:.3f}x direct ({r['events']:.0f} SSE "
            f"events per reply, {r['snapshots']} joined late (snapshot), {r['failed']} failed)"
        )
    return result


# --- main -----------------------------------------------------------------------------------------


def parse_levels(text: str) -> list[int]:
    levels = sorted({int(x) for x in text.split(",") if x.strip()})
    if not levels or levels[0] < 1 or levels[-1] > 2000:
        raise argparse.ArgumentTypeError("levels between 1 and 2000")
    return levels


def parse_paths(text: str) -> list[str]:
    paths = [x.strip() for x in text.split(",") if x.strip()]
    if not paths or not set(paths) <= set(PATHS) or len(set(paths)) != len(paths):
        raise argparse.ArgumentTypeError("a comma-separated subset of two,one")
    return paths


def cpu_list(text: str) -> set[int]:
    """``0``, ``0,1``, ``0-3`` (taskset's list form) as a set of cpus."""
    cpus: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        cpus |= set(range(int(first), int(last or first) + 1))
    return cpus


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def print_summary(report: dict, args, started: float) -> None:
    cores = len(cpu_list(args.server_cpus))
    print(
        f"\n# summary ({time.monotonic() - started:.0f} s; server at {report['commit']}, {args.workers} worker(s) "
        f"on {cores} core(s): cpu {args.server_cpus})"
    )
    if "a" in report:
        for path, a in report["a"]["paths"].items():
            line = f"(a) {PATHS[path]}: added TTFT p50 {a['added_p50']:.1f} ms (p95 {a['added_p95']:.1f})"
            if path == "one":
                ok = a["added_p50"] <= TARGETS["a_one_p50_ms"] and not a["errors"]
                line += f", target <= {TARGETS['a_one_p50_ms']:.0f} ms: {verdict(ok)}"
            else:
                line += " (the target is the one-request path's)"
            print(line + (f"; {a['errors']} failed" if a["errors"] else ""))
    if "c" in report:
        c = report["c"]
        for path, r in c["paths"].items():
            ok = r["ratio"] >= TARGETS["c_ratio"] and not r["failed"]
            print(
                f"(c) {PATHS[path]}: burst {r['service_tps']:.0f} vs {c['direct_tps']:.0f} tokens/s direct = "
                f"{r['ratio']:.3f}x, target >= {TARGETS['c_ratio']}x: {verdict(ok)}"
            )
    for key in ("b", "d"):
        if key not in report:
            continue
        b = report[key]
        goal = TARGETS["b_pg" if "Postgre" in b["target"] else "b_sqlite"] * cores
        for path, capacity in b["capacity"].items():
            rows = [row for row in b["levels"] if row["path"] == path]
            tested = max(row["n"] for row in rows) if rows else 0
            if capacity >= goal:
                result = "MET"
            elif tested >= goal or any(not row["passes"] for row in rows):
                result = "NOT MET"
            else:
                result = f"not decided (highest level tested {tested})"
            print(
                f"({key}) {PATHS[path]}: capacity on {b['target']} {capacity} (levels {[r['n'] for r in rows]}), "
                f"target >= {goal} ({TARGETS['b_pg' if 'Postgre' in b['target'] else 'b_sqlite']} per core): {result}"
            )
            at = [row for row in rows if row["n"] >= 400]
            if at:
                row = at[0]
                ok = row["rss_max_mb"] <= TARGETS["rss_mb_at_400"]
                print(
                    f"({key}) {PATHS[path]}: RSS at N={row['n']} {row['rss_max_mb']:.0f} MB (all server processes), "
                    f"target <= {TARGETS['rss_mb_at_400']} MB: {verdict(ok)}"
                )
            cost = [row["cost"] for row in rows]
            if cost:
                c = cost[-1]
                extra = ""
                if "pg_commits" in c:
                    extra = f", {c['pg_commits']:.1f} commits, {c['redis_cmds']:.0f} Redis commands"
                print(
                    f"({key}) {PATHS[path]}: one reply at N={rows[-1]['n']}: {c['cpu_ms']:.1f} ms server CPU "
                    f"({c['cpu_us_per_token']:.0f} us/token), {c['sql']:.1f} SQL statements{extra}"
                )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("--scenarios", default="a,b,c,d", help="comma-separated subset of a,b,c,d")
    parser.add_argument(
        "--paths",
        type=parse_paths,
        default=parse_paths("two,one"),
        help="the reply paths each scenario runs: two (POST, then GET /stream), one (the POST's own stream)",
    )
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
    parser.add_argument(
        "--plain-server",
        action="store_true",
        help="serve config.asgi:application itself (no SQL statement counts; bench/counting/ not on its path)",
    )
    parser.add_argument(
        "--redis-url",
        default="",
        help="Redis of the PostgreSQL runs (default: a redis-server of the bench's own, so that its command "
        "counts are the server's alone); keys under the prefix bench-<pid>, deleted after",
    )
    parser.add_argument("--keep-logs", type=Path, help="copy the server logs into this directory")
    parser.add_argument(
        "--sql-log",
        type=Path,
        help="append every statement the server runs to this file (pid, thread, ms, text): which they are",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=12.0,
        help="after each level, wait at most this long (s) for the statements and commits to stop moving",
    )
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
    try:
        if not cpu_list(args.server_cpus) or not cpu_list(args.load_cpus):
            raise ValueError
    except ValueError:
        parser.error("--server-cpus and --load-cpus take taskset's cpu list: 0, 0,1 or 0-1")
    args.server_root = args.server_root.resolve()
    if args.sql_log:
        args.sql_log = args.sql_log.resolve()
    if not (args.server_root / "manage.py").is_file():
        parser.error(f"{args.server_root} has no manage.py")

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        os.sched_setaffinity(0, cpu_list(args.load_cpus))
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
        redis_url = ""
        if "d" in scenarios or (args.pg and scenarios & {"a", "b", "c"}):
            redis_url = args.redis_url or start_own_redis(tmp)
        if scenarios & {"a", "b", "c"}:
            users = max(args.levels) if "b" in scenarios else 1
            with Target(args, upstream_port, args.pg, users, tmp, redis_url) as target:
                if "a" in scenarios:
                    report["a"] = scenario_a(args, target, upstream_port)
                if "b" in scenarios:
                    report["b"] = scenario_b(args, target, upstream_port, args.levels, "b")
                if "c" in scenarios:
                    report["c"] = scenario_c(args, target, upstream_port)
        if "d" in scenarios:
            with Target(args, upstream_port, True, max(args.pg_levels), tmp, redis_url) as target:
                report["d"] = scenario_b(args, target, upstream_port, args.pg_levels, "d")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        CHILDREN.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)

    print_summary(report, args, started)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
