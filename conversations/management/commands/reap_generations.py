from django.core.management.base import BaseCommand, CommandError

from conversations.generation import reap_stale_sync
from conversations.generation.rows import replies_stale
from core.progress import progress

BATCH = 100  # replies reaped per call (each is its own conditional UPDATE)


class Command(BaseCommand):
    help = (
        "Mark replies whose worker stopped (no heartbeat for CHAT['STALE_AFTER_SECONDS']) as interrupted. "
        "Every web server process already does this by itself, every STALE_AFTER_SECONDS / 2."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stale-after", type=float, default=None, help="Seconds without a heartbeat (default: the setting)."
        )

    def handle(self, *args, stale_after=None, **options):
        if stale_after is not None and not stale_after >= 0:  # also refuses nan
            raise CommandError("--stale-after must be 0 or more seconds.")
        stale = [m.pk for m in replies_stale(stale_after=stale_after)]
        reaped = 0
        with progress(self, total=len(stale), desc="Reaping replies", unit="reply") as bar:
            for start in range(0, len(stale), BATCH):
                batch = stale[start : start + BATCH]
                # Checked again one by one: a reply that beat or finished meanwhile is left alone.
                reaped += reap_stale_sync(message_ids=batch, stale_after=stale_after)
                bar.update(len(batch))
        self.stdout.write(f"Marked {reaped} stale repl{'y' if reaped == 1 else 'ies'} interrupted.")
