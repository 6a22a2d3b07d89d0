from django.core.management.base import BaseCommand, CommandError

from accounts.services import expired_tokens_purge


class Command(BaseCommand):
    help = "Delete expired refresh-token rows (and their blacklist entries) in batches."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Rows deleted per transaction; small batches keep locks short on a busy database.",
        )

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        deleted = expired_tokens_purge(batch_size=batch_size)
        self.stdout.write(f"Deleted {deleted} expired token(s).")
