from django.core.management.base import BaseCommand

from conversations.generation import reap_stale_sync


class Command(BaseCommand):
    help = "Mark replies whose worker stopped (no heartbeat for CHAT['STALE_AFTER_SECONDS']) as interrupted."

    def add_arguments(self, parser):
        parser.add_argument(
            "--stale-after", type=float, default=None, help="Seconds without a heartbeat (default: the setting)."
        )

    def handle(self, *args, stale_after=None, **options):
        reaped = reap_stale_sync(stale_after=stale_after)
        self.stdout.write(f"Marked {reaped} stale repl{'y' if reaped == 1 else 'ies'} interrupted.")
