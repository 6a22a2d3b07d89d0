"""Issue 25's capacity model: runs of bench/capacity.py, then their tables and a deployment's arithmetic.

The runs behind docs/benchmarks.md's "Capacity model (issue 25)" section; the tables are Markdown.

    .venv/bin/python bench/capacity_model.py --out /tmp/capacity-model                 # 15-25 minutes
    .venv/bin/python bench/capacity_model.py --out /tmp/capacity-model --server-root /work/main
    .venv/bin/python bench/capacity_model.py --out /tmp/capacity-model --report        # tables again, no run
    .venv/bin/python bench/capacity_model.py --out /tmp/capacity-model --runs w1,w2    # some runs again

The runs (each ``bench/capacity.py ... --json <out>/<name>.json``, its output in ``<out>/<name>.txt``):

  sqlite  --scenarios a,b,c --levels 50,100,200 --rounds 2                       (both paths)
  pg      --pg --scenarios a,b,c --levels 50,100,200 --rounds 2                  (both paths)
  w1      --pg --scenarios b --levels 50,100 --rounds 2 --workers 1 --server-cpus 0   (both paths)
  w2      the same with --workers 2 --server-cpus 0     (a second process on the same core)
  w2c2    the same with --workers 2 --server-cpus 0,1   (a second process on a second core, which the
          load generator, the upstream, PostgreSQL and Redis share on a 2-core machine)

The deployment arithmetic takes the one-process PostgreSQL rows (the ``pg`` and ``w1`` runs, both
paths, N within ``--model-levels`` 50,100): what one reply costs there, lowest to highest, times the
replies a second that C concurrent replies make (C / the reply's duration).
"""

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
ONE_PROCESS = ["--pg", "--scenarios", "b", "--levels", "50,100", "--rounds", "2"]
RUNS = {
    "sqlite": ["--scenarios", "a,b,c", "--levels", "50,100,200", "--rounds", "2"],
    "pg": ["--pg", "--scenarios", "a,b,c", "--levels", "50,100,200", "--rounds", "2"],
    "w1": [*ONE_PROCESS, "--workers", "1", "--server-cpus", "0"],
    "w2": [*ONE_PROCESS, "--workers", "2", "--server-cpus", "0"],
    "w2c2": [*ONE_PROCESS, "--workers", "2", "--server-cpus", "0,1"],
}
WORKER_RUNS = {"w1": "1 process, core 0", "w2": "2 processes, core 0", "w2c2": "2 processes, cores 0-1"}
PATHS = {"two": "2 requests", "one": "1 request"}
DEPLOYMENTS = (1_000, 10_000)
UTILISATION = 0.7  # plan the web processes, PostgreSQL and Redis to run at most this busy


def cpu_name() -> str:
    info: dict[str, str] = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    name = info.get("model name", "?")
    return (
        f"{name} (family {info.get('cpu family', '?')} model {info.get('model', '?')}, "
        f"{float(info.get('cpu MHz', 0)):.0f} MHz, {info.get('cache size', '?')} L2)"
    )


def run(name: str, args, out: Path) -> None:
    command = [args.python, str(BENCH / "capacity.py"), *RUNS[name], "--json", str(out / f"{name}.json")]
    command += ["--server-root", str(args.server_root), "--python", args.python]
    print(f"== {name}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
    with open(out / f"{name}.txt", "w") as log:
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        proc = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed ({proc.returncode}): see {out / f'{name}.txt'}")


def load(out: Path, name: str) -> dict | None:
    try:
        return json.loads((out / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None


def fmt(x: float, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.{digits}f}"


def latency_table(reports: dict) -> list[str]:
    lines = [
        "| run | path | N | added TTFT p50 / p95 ms | delivered p5 | errors, lost, dup, reordered | server CPU | "
        "RSS MB | other CPU | passes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, report in reports.items():
        for key in ("b", "d"):
            if key not in report:
                continue
            for row in report[key]["levels"]:
                faults = f"{row['errors']}, {row['lost']}, {row['dup']}, {row['reordered']}"
                lines.append(
                    f"| {name} | {PATHS[row['path']]} | {row['n']} | {fmt(row['added_p50'])} / "
                    f"{fmt(row['added_p95'])} | {row['delivered_p5']:.2f}x | {faults} | {row['cpu_pct']:.0f} % | "
                    f"{row['rss_max_mb']:.0f} | {row['other_cpu_pct']:.0f} % | {'yes' if row['passes'] else 'no'} |"
                )
    return lines


def cost_table(reports: dict) -> list[str]:
    lines = [
        "| run | path | N | server CPU ms (us/token) | SQL statements (request / background) | driver ms | "
        "commits | rows written | WAL KB | PostgreSQL CPU ms | Redis commands | Redis KB in / out | Redis CPU ms | "
        "SQLite KB dirtied | client KB in |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, report in reports.items():
        for key in ("b", "d"):
            if key not in report:
                continue
            for row in report[key]["levels"]:
                c = row["cost"]
                pg = "pg_commits" in c
                lines.append(
                    f"| {name} | {PATHS[row['path']]} | {row['n']} | {c['cpu_ms']:.1f} ({c['cpu_us_per_token']:.0f}) | "
                    f"{c['sql']:.1f} ({c['sql_request']:.1f} / {c['sql_background']:.1f}) | {c['sql_ms']:.1f} | "
                    + (
                        f"{c['pg_commits']:.1f} | {c['pg_rows_written']:.1f} | {c['pg_wal_bytes'] / 1024:.1f} | "
                        f"{c['pg_cpu_ms']:.1f} | {c['redis_cmds']:.0f} | {c['redis_in_bytes'] / 1024:.1f} / "
                        f"{c['redis_out_bytes'] / 1024:.1f} | {c['redis_cpu_ms']:.1f} | - | "
                        if pg
                        else f"- | - | - | - | - | - | - | {c['server_write_bytes'] / 1024:.0f} | "
                    )
                    + f"{c['client_in_bytes'] / 1024:.1f} |"
                )
    return lines


def detail_lines(reports: dict) -> list[str]:
    lines = []
    for name, report in reports.items():
        for key in ("b", "d"):
            for row in report.get(key, {}).get("levels", []):
                c = row["cost"]
                tables = sorted(c["sql_tables"].items(), key=lambda kv: -kv[1])
                lines.append(
                    f"- {name}, {PATHS[row['path']]}, N={row['n']}: "
                    + ", ".join(f"{k} {v:.2f}" for k, v in tables)
                    + (f"; Redis: {', '.join(f'{k} {v:.1f}' for v, k in c['redis_top'])}" if "redis_top" in c else "")
                )
    return lines


def worker_table(reports: dict) -> list[str]:
    lines = [
        "| run | path | N | added TTFT p50 / p95 ms | delivered p5 | server CPU (of one core) | us/token | "
        "RSS MB start / max | SQL / reply | Redis commands / reply | Redis CPU ms / reply | other CPU | passes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, label in WORKER_RUNS.items():
        report = reports.get(name)
        if report is None:
            continue
        for row in report["b"]["levels"]:
            c = row["cost"]
            lines.append(
                f"| {label} | {PATHS[row['path']]} | {row['n']} | {fmt(row['added_p50'])} / {fmt(row['added_p95'])} | "
                f"{row['delivered_p5']:.2f}x | {row['cpu_pct']:.0f} % | {row['cpu_us_per_token']:.0f} | "
                f"{row['rss_start_mb']:.0f} / {row['rss_max_mb']:.0f} | {c['sql']:.1f} | {c['redis_cmds']:.0f} | "
                f"{c['redis_cpu_ms']:.1f} | {row['other_cpu_pct']:.0f} % | {'yes' if row['passes'] else 'no'} |"
            )
    return lines


def model(reports: dict, levels: tuple[int, int]) -> list[str]:
    """A deployment's needs for each of ``DEPLOYMENTS``, as ranges over the one-process PostgreSQL
    rows (the ``pg`` and ``w1`` runs, both paths) at N within ``levels``."""
    rows, args = [], None
    for name in ("pg", "w1"):
        report = reports.get(name)
        for row in (report or {}).get("b", {}).get("levels", []):
            if levels[0] <= row["n"] <= levels[1] and "pg_commits" in row["cost"]:
                rows.append(row)
                args = report["args"]
    if not rows:
        return [f"(no PostgreSQL rows at N={levels[0]}-{levels[1]} in the pg or w1 runs)"]
    ttft, rate, tokens = float(args["ttft"]), float(args["rate"]), int(args["tokens"])
    duration = ttft + tokens / rate
    capacities = []
    for name in ("sqlite", "pg", "w1"):
        capacities += (reports.get(name) or {}).get("b", {}).get("capacity", {}).values()
    lines = [
        f"From {len(rows)} rows (the `pg` and `w1` runs, both paths, N={levels[0]}-{levels[1]} in one process): "
        f"one reply of {tokens} tokens at {rate:g} tokens/s lasts {ttft:g} + {tokens} / {rate:g} = {duration:.1f} s, "
        f"so C concurrent replies are C / {duration:.1f} replies a second. Ranges are the rows' lowest and highest; "
        f"cores planned at {UTILISATION:.0%} busy.",
        "",
        "| | per reply | C = " + " | C = ".join(f"{c:,}" for c in DEPLOYMENTS) + " |",
        "|---|---|" + "---|" * len(DEPLOYMENTS),
        "| replies a second | | " + " | ".join(f"{fmt(c / duration, 0)}" for c in DEPLOYMENTS) + " |",
    ]

    def span(values: list[float], digits: int) -> str:
        low, high = fmt(min(values), digits), fmt(max(values), digits)
        return low if low == high else f"{low}-{high}"

    def line(label: str, value, unit: str, scale: float, digits: int = 1, per: str = "", per_digits: int = 1):
        values = [value(row["cost"]) for row in rows]
        cells = [span([conc / duration * v * scale for v in values], digits) + f" {unit}" for conc in DEPLOYMENTS]
        lines.append(f"| {label} | {span(values, per_digits)}{per} | " + " | ".join(cells) + " |")

    line("web CPU, cores busy", lambda c: c["cpu_ms"], "cores", 1e-3, per=" ms")
    line(f"web CPU, cores at {UTILISATION:.0%}", lambda c: c["cpu_ms"], "cores", 1e-3 / UTILISATION, 0, " ms")
    if any(capacities):
        best = max(capacities)
        lines.append(
            f"| web processes at the best measured capacity ({best} a process) | | "
            + " | ".join(f"{math.ceil(conc / best):,}" for conc in DEPLOYMENTS)
            + " |"
        )
    line("SQL statements", lambda c: c["sql"], "/s", 1, 0)
    line("PostgreSQL commits", lambda c: c["pg_commits"], "/s", 1, 0)
    line("rows written", lambda c: c["pg_rows_written"], "/s", 1, 0)
    line("PostgreSQL WAL", lambda c: c["pg_wal_bytes"] / 1024, "MB/s", 1 / 1024, per=" KB")
    line("PostgreSQL CPU, cores busy", lambda c: c["pg_cpu_ms"], "cores", 1e-3, per=" ms")
    line("Redis commands", lambda c: c["redis_cmds"], "/s", 1, 0, per_digits=0)
    line("Redis CPU, cores busy (one Redis uses one)", lambda c: c["redis_cpu_ms"], "cores", 1e-3, per=" ms")
    line(
        "Redis network in + out",
        lambda c: (c["redis_in_bytes"] + c["redis_out_bytes"]) / 1024,
        "MB/s",
        1 / 1024,
        per=" KB",
    )
    line("bytes to clients", lambda c: c["client_in_bytes"] / 1024, "MB/s", 1 / 1024, per=" KB")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("--out", type=Path, required=True, help="directory of the runs' JSON and output")
    parser.add_argument("--runs", default=",".join(RUNS), help=f"which runs (default all: {','.join(RUNS)})")
    parser.add_argument("--report", action="store_true", help="no run: the tables from the JSON files in --out")
    parser.add_argument("--server-root", type=Path, default=REPO, help="checkout the server runs from")
    parser.add_argument("--python", default=str(REPO / ".venv" / "bin" / "python"), help="interpreter of the server")
    parser.add_argument(
        "--model-levels",
        default="50,100",
        help="the model takes the one-process PostgreSQL rows with N in this range (low,high)",
    )
    args = parser.parse_args()
    runs = [name.strip() for name in args.runs.split(",") if name.strip()]
    if not set(runs) <= set(RUNS):
        parser.error(f"--runs takes a subset of {','.join(RUNS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    args.server_root = args.server_root.resolve()
    if not args.report:
        for name in runs:
            run(name, args, args.out)
            time.sleep(2)
    reports = {name: report for name in RUNS if (report := load(args.out, name)) is not None}
    if not reports:
        print(f"no run's JSON in {args.out}", file=sys.stderr)
        return 1
    first = next(iter(reports.values()))
    dirty = " (+uncommitted changes)" if first["dirty"] else ""
    print(f"Server at `{first['commit']}`{dirty}, {first['date']}, on {cpu_name()}.\n")
    for name in ("sqlite", "pg"):
        report = reports.get(name)
        if report and "a" in report:
            a = report["a"]
            cells = "; ".join(
                f"{PATHS[path]}: added TTFT p50 {r['added_p50']:.1f} / p95 {r['added_p95']:.1f} ms, POST "
                f"{r['post_p50']:.1f} ms" + (f", {r['errors']} failed" if r["errors"] else "")
                for path, r in a["paths"].items()
            )
            print(f"- (a) {name}: {cells}")
        if report and "c" in report:
            c = report["c"]
            cells = "; ".join(f"{PATHS[p]} {r['ratio']:.2f}x" for p, r in c["paths"].items())
            print(f"- (c) {name}: burst vs {c['direct_tps']:,.0f} tokens/s direct: {cells}")
        if report and "b" in report:
            caps = ", ".join(f"{PATHS[p]} {n}" for p, n in report["b"]["capacity"].items())
            print(f"- (b) {name}: capacity (largest passing N of {report['b']['levels'][0]['n']}...): {caps}")
    print("\n### Latency and delivery\n")
    print("\n".join(latency_table({k: v for k, v in reports.items() if k in ("sqlite", "pg")})))
    print("\n### What one reply costs\n")
    print("\n".join(cost_table({k: v for k, v in reports.items() if k in ("sqlite", "pg")})))
    print("\nStatements per reply by kind and table, Redis commands by name:\n")
    print("\n".join(detail_lines({k: v for k, v in reports.items() if k in ("sqlite", "pg")})))
    if any(name in reports for name in WORKER_RUNS):
        print("\n### One web process or two (PostgreSQL + Redis)\n")
        print("\n".join(worker_table(reports)))
    if "pg" in reports or "w1" in reports:
        low, _, high = args.model_levels.partition(",")
        print("\n### A deployment\n")
        print("\n".join(model(reports, (int(low), int(high or low)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
