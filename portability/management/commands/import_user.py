from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portability import cli, documents, services, sources
from portability.data import FileError
from portability.models import JobStatus, SourceFormat
from portability.sources import MANIFEST_JSON


def _manifest(path: Path) -> dict:
    try:
        with path.open("rb") as fileobj:
            manifest = sources.zip_manifest(fileobj)
    except (FileError, OSError) as exc:
        raise CommandError(f"{path}: not a user export of this server ({exc})") from exc
    if manifest is None:
        raise CommandError(f"{path}: not a user export of this server (no readable {MANIFEST_JSON}).")
    if documents.document_format(manifest) != documents.USER_EXPORT_FORMAT:
        raise CommandError(f"{path}: not a user export of this server ({MANIFEST_JSON} says otherwise).")
    return manifest


class Command(BaseCommand):
    help = (
        "Import a user export zip (made by POST /user/export or export_user): files (chat attachments, uploads), "
        "collector items with their files, conversations (their messages' attachments and sources) and todos. "
        "Running it again skips what it brought in before (and what the export was made from, when that is still "
        "in the account). Profile, settings and shares are not imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the export's zip")
        parser.add_argument(
            "--user", metavar="EMAIL", help="Whose account it goes into (default: the email the export names)."
        )

    def handle(self, *args, file: str, user: str | None = None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        manifest = _manifest(path)
        email = user or (manifest.get("user") or {}).get("email") or ""
        owner = cli.user_by_email(email)
        try:
            with cli.progress_bar(self, description="Importing", unit="entry") as progress:
                row = services.import_file(user=owner, path=path, progress=progress)
        except FileError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        if row.status == JobStatus.FAILED:
            raise CommandError(f"{file}: {row.error}")
        if row.source_format != SourceFormat.USER_ARCHIVE:  # cannot happen after the manifest check
            raise CommandError(f"{file}: not a user export.")
        self.stdout.write(f"Into {owner.email}:")
        for line in cli.import_summary(row):
            self.stdout.write(line)
