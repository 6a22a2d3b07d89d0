"""The server under test with its SQL statements counted: the capacity bench's ASGI entry point.

    cd <server root> && BENCH_SQL_DIR=/tmp/x PYTHONPATH=<this directory> \\
        python -m uvicorn counted_asgi:application ...

It serves the server root's own ``config.asgi:application`` unchanged (the working directory comes
first on ``sys.path``, so any checkout works) and adds, on every database connection the process
opens (Django's ``connection_created`` signal), an ``execute_wrapper`` that counts each statement
by its first word (SELECT, INSERT, UPDATE, DELETE, BEGIN, SAVEPOINT, RELEASE, ...; an
``executemany`` counts once), its first table (after FROM, INTO, UPDATE) and where it ran:
``background`` for the thread of the replies' work (``core.db``'s ``background-db`` thread:
claims, checkpoints, final saves) and ``request`` for every other thread (the views'), with the
time spent in the driver (waits for SQLite's write lock included). Keys are
``<where>:<KIND>:<table>``. Commits and rollbacks of
a transaction are not statements (Django calls the driver's ``commit()``); the bench counts them
from PostgreSQL's ``pg_stat_database``.

Every process (each of ``uvicorn --workers n``) writes its totals, when they changed, at most every
0.25 s, to ``$BENCH_SQL_DIR/<pid>.json`` (written aside, then renamed). The directory holds only
this file; nothing here changes what the application does. With ``BENCH_SQL_LOG=<file>`` each
statement is also appended there (pid, where, ms, the first 300 characters), to see which they are.
"""

import json
import os
import re
import threading
import time
from pathlib import Path

from django.db.backends.signals import connection_created

_OUT = Path(os.environ["BENCH_SQL_DIR"]) / f"{os.getpid()}.json" if os.environ.get("BENCH_SQL_DIR") else None
_lock = threading.Lock()
_counts: dict[str, int] = {}
_seconds: dict[str, float] = {}
_changes = [0]
_LOG = open(os.environ["BENCH_SQL_LOG"], "a", buffering=1) if os.environ.get("BENCH_SQL_LOG") else None  # noqa: SIM115


_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?([A-Za-z0-9_]+)"?', re.IGNORECASE)


_KEYS: dict[str, str] = {}  # statement text -> "KIND:table" (the ORM makes the same texts again and again)


def _key(where: str, sql) -> str:
    text = sql if isinstance(sql, str) else str(sql)
    key = _KEYS.get(text)
    if key is None:
        word = text.lstrip(" (\n\t").split(None, 1)[:1]
        table = _TABLE.search(text)
        key = f"{word[0].upper().rstrip(';') if word else '?'}:{table.group(1) if table else ''}"
        if len(_KEYS) < 20000:
            _KEYS[text] = key
    return f"{where}:{key}"


def _count(execute, sql, params, many, context):
    where = "background" if threading.current_thread().name.startswith("background-db") else "request"
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        elapsed = time.perf_counter() - started
        key = _key(where, sql)
        with _lock:
            _counts[key] = _counts.get(key, 0) + 1
            _seconds[key] = _seconds.get(key, 0.0) + elapsed
            _changes[0] += 1
            if _LOG is not None:
                text = " ".join(str(sql).split())[:300]
                _LOG.write(f"{os.getpid()} {where} {1e3 * elapsed:.2f}ms {text}\n")


def _install(sender, connection, **kwargs):
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


def _write_loop():
    written = -1
    while True:
        time.sleep(0.25)
        with _lock:
            if _changes[0] == written:
                continue
            written = _changes[0]
            data = {"pid": os.getpid(), "counts": dict(_counts), "seconds": dict(_seconds)}
        aside = _OUT.with_suffix(".tmp")
        aside.write_text(json.dumps(data))
        aside.replace(_OUT)


if _OUT is not None:
    connection_created.connect(_install, weak=False, dispatch_uid="bench-sql-count")
    threading.Thread(target=_write_loop, name="bench-sql-count", daemon=True).start()

from config.asgi import application  # noqa: E402,F401 (the server root's application, served as it is)
