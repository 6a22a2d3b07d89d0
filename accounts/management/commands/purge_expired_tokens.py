from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from accounts.services import expired_tokens_purge_batches, revoked_devices_purge_batches
from core.progress import progress


class Command(BaseCommand):
    help = (
        "Delete expired refresh-token rows (and their blacklist entries), and device sessions revoked "
        "longer ago than --revoked-devices-days, in batches."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Rows deleted per transaction; small batches keep locks short on a busy database.",
        )
        parser.add_argument(
            "--revoked-devices-days",
            type=int,
            default=90,
            help="Keep revoked device sessions this many days (for the admin's history), then delete them.",
        )

    def handle(self, *args, batch_size: int, revoked_devices_days: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if revoked_devices_days < 0:
            raise CommandError("--revoked-devices-days must be 0 or more.")
        deleted = devices = 0
        with progress(self, total=None, desc="Expired tokens", unit="row") as bar:
            for count in expired_tokens_purge_batches(batch_size=batch_size):
                deleted += count
                bar.update(count)
        older_than = timedelta(days=revoked_devices_days)
        with progress(self, total=None, desc="Revoked devices", unit="row") as bar:
            for count in revoked_devices_purge_batches(older_than=older_than, batch_size=batch_size):
                devices += count
                bar.update(count)
        self.stdout.write(f"Deleted {deleted} expired token(s) and {devices} revoked device session(s).")
