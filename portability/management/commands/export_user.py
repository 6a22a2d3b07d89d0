import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.text import slugify

from portability import cli, services


class Command(BaseCommand):
    help = (
        "Write a zip of everything a user owns (profile, settings, conversations with every message, collector "
        "items and their files, todos, shares): the same zip as POST /user/export."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument(
            "--output", metavar="PATH", help="Where to write it (default: chat-export-<email>-<date>.zip here)."
        )

    def handle(self, *args, email: str, output: str | None = None, **options):
        user = cli.user_by_email(email)
        default_name = f"chat-export-{slugify(user.email.replace('@', '-at-'))}-{timezone.now():%Y-%m-%d}.zip"
        path = Path(output or default_name)
        if path.is_dir():
            path = path / default_name
        if not path.parent.is_dir():
            raise CommandError(f"No such directory: {path.parent}")
        # Written next to its destination and moved there once complete: never half a zip at PATH.
        fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=".export-", suffix=".zip")
        try:
            with (
                os.fdopen(fd, "wb") as fileobj,
                cli.progress_bar(self, description="Exporting", unit="conversation") as progress,
            ):
                counts = services.user_export_write(user=user, fileobj=fileobj, progress=progress)
            os.replace(scratch, path)
        except BaseException:
            Path(scratch).unlink(missing_ok=True)
            raise
        parts = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())
        self.stdout.write(f"Wrote {path} ({path.stat().st_size} bytes): {parts}.")
