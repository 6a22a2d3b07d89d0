"""Progress bars for management commands (tqdm): on the command's stderr when it is a terminal, and
nothing at all otherwise (cron, systemd, CI logs, tests), so output meant for logs stays one
summary line."""

from tqdm import tqdm


def progress(command, *, total: int | None, desc: str, unit: str = "it") -> tqdm:
    """A bar for ``command`` (a ``BaseCommand``); use it as a context manager and ``update(n)``."""
    stream = getattr(command.stderr, "_out", command.stderr)  # the real stream, not Django's wrapper
    return tqdm(total=total, desc=desc, unit=unit, file=stream, disable=None, dynamic_ncols=True, leave=True)
