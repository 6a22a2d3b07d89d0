"""Jobs for the worker tests: they leave their trace in a file the test reads."""

import time
from pathlib import Path

from django_tasks import task


@task()
def note(path: str, text: str) -> str:
    with Path(path).open("a") as f:
        f.write(text + "\n")
    return text


@task()
def slow_the_first_time(path: str, seconds: float) -> int:
    """Writes ``start``; the first time, waits ``seconds`` (long enough to be killed); ``done``."""
    file = Path(path)
    with file.open("a") as f:
        f.write("start\n")
    starts = file.read_text().split().count("start")
    if starts == 1:
        time.sleep(seconds)
    with file.open("a") as f:
        f.write("done\n")
    return starts
