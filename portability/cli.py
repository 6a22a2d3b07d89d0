"""What the commands share: finding the user, a progress bar, the summary of an import."""

import sys
from contextlib import contextmanager

from django.core.management.base import CommandError
from tqdm import tqdm

from accounts.models import User

from .models import Import, JobStatus


def user_by_email(email: str) -> User:
    user = User.objects.filter(email__iexact=(email or "").strip()).first()
    if user is None:
        raise CommandError(f"No user with the email {email!r}.")
    return user


@contextmanager
def progress_bar(command, *, description: str, unit: str):
    """A tqdm bar on the command's stderr when it is a terminal (nothing in cron, CI or test logs,
    which get the summary only); yields the ``progress(done, total)`` callback the services take."""
    stream = getattr(command.stderr, "_out", sys.stderr)  # the raw stream: tqdm draws with \r
    bar = tqdm(desc=description, unit=unit, file=stream, disable=None, dynamic_ncols=True, leave=True)

    def progress(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield progress
    finally:
        bar.close()


def import_summary(row: Import) -> list[str]:
    """Lines saying what an import did (the last lines of the commands' output)."""
    if row.status == JobStatus.FAILED:
        return [f"Import failed: {row.error}"]
    lines = [
        f"Imported {row.conversations_imported} conversation(s) with {row.messages_imported} message(s); "
        f"skipped {row.conversations_skipped}, failed {row.conversations_failed}."
    ]
    if row.items_imported or row.items_skipped or row.todos_imported or row.todos_skipped:
        lines.append(
            f"Collector items: {row.items_imported} imported, {row.items_skipped} skipped; "
            f"todos: {row.todos_imported} imported, {row.todos_skipped} skipped."
        )
    if row.files_imported or row.files_skipped:
        lines.append(f"Files (chat attachments, uploads): {row.files_imported} imported, {row.files_skipped} skipped.")
    for error in row.errors:
        title = f" {error['title']!r}" if error.get("title") else ""
        lines.append(f"  {error['kind']} #{error['index']}{title}: {error['error']}")
    return lines
