from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portability import cli, services
from portability.data import FileError
from portability.models import JobStatus


class Command(BaseCommand):
    help = (
        "Import a ChatGPT data export (its conversations.json, or the zip as downloaded) into a user's account. "
        "Our own JSON exports are read too. A broken conversation is reported and the others are imported; "
        "conversations imported before are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="conversations.json or the export's zip")
        parser.add_argument("--user", required=True, metavar="EMAIL", help="Whose account they go into.")

    def handle(self, *args, file: str, user: str, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        owner = cli.user_by_email(user)
        try:
            with cli.progress_bar(self, description="Importing", unit="conversation") as progress:
                row = services.import_file(user=owner, path=path, progress=progress)
        except FileError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        if row.status == JobStatus.FAILED:
            raise CommandError(f"{file}: {row.error}")
        for line in cli.import_summary(row):
            self.stdout.write(line)
