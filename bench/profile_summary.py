"""Where a server's CPU goes, from a py-spy raw profile (collapsed stacks), by the part of the code.

    py-spy record --format raw --nonblocking -r 200 -d 20 -o /tmp/profile.txt -p <server pid>
    .venv/bin/python bench/profile_summary.py /tmp/profile.txt

Each sample goes to the innermost frame that belongs to a known part (the project's apps, Django,
DRF, uvicorn, the HTTP clients, asgiref, Redis, Channels, the database drivers, ...); frames of
the standard library (json, asyncio, ...) count for their caller's part. Prints the share of
samples of each part, and of each of its functions with more than ``--min`` percent.
"""

import argparse
import collections
import re
import sys
from pathlib import Path

# (part, pattern on a frame's file name), the first that matches names the frame's part.
PARTS = [
    ("stream: SSE view, listener", r"conversations/(api/stream|streaming/listener)\.py"),
    ("event log + Redis relay", r"conversations/streaming/(eventlog|events)\.py"),
    ("reply runner", r"conversations/generation/"),
    ("upstream client (project)", r"conversations/llm/"),
    ("send view, serializers, services", r"conversations/"),
    ("accounts, auth", r"accounts/"),
    ("core (db helpers, metrics, middleware)", r"core/"),
    ("DRF", r"rest_framework/"),
    ("Django ORM + driver", r"django/db/|sqlite3/|psycopg"),
    ("Django ASGI handler, request, response", r"django/core/handlers/|django/http/"),
    ("Django other", r"django/"),
    ("uvicorn", r"uvicorn/"),
    ("upstream client (openai, httpx, aiohttp)", r"openai/|httpx|httpcore|aiohttp/|anyio/"),
    ("asgiref (sync_to_async threads)", r"asgiref/"),
    ("redis client, channels", r"redis/|channels_redis/|channels/"),
    ("prometheus_client", r"prometheus_client/"),
]
COMPILED = [(name, re.compile(pattern)) for name, pattern in PARTS]
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def part_of(frames: list[str]) -> tuple[str, str]:
    for frame in reversed(frames):  # the innermost first
        match = FRAME.match(frame)
        file = match.group("file") if match else frame
        for name, pattern in COMPILED:
            if pattern.search(file):
                func = match.group("func") if match else frame
                return name, f"{func} ({file.rsplit('/', 2)[-2:][-1]})"
    leaf = frames[-1] if frames else "?"
    return "other (event loop, stdlib)", leaf[:80]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--min", type=float, default=1.0, help="list functions above this share (%%)")
    args = parser.parse_args()
    parts: collections.Counter = collections.Counter()
    funcs: collections.Counter = collections.Counter()
    total = 0
    for line in args.profile.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if frames and frames[0].startswith("process ") or frames and frames[0].startswith("thread "):
            frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        name, func = part_of(frames)
        parts[name] += int(count)
        funcs[name, func] += int(count)
        total += int(count)
    if not total:
        print("no samples", file=sys.stderr)
        return 1
    print(f"{total} samples")
    for name, count in parts.most_common():
        print(f"{100 * count / total:5.1f} %  {name}")
        for (part, func), n in funcs.most_common():
            if part == name and 100 * n / total >= args.min:
                print(f"          {100 * n / total:5.1f} %  {func}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
