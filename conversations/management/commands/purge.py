from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from conversations import retention
from core.progress import progress

PREVIEW_OWNERS = 50  # owners listed one per line by a dry run; the rest are counted


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Delete conversations with no activity (updated_at) for longer than --older-than, or than "
        "CHAT_RETENTION_DAYS. A dry run unless --apply: it lists what would go, per user. Conversations "
        "with a reply in flight are kept; shares made from the deleted ones stay (they are snapshots)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            metavar="AGE",
            help="Days or weeks without activity, e.g. 365d or 52w (default: CHAT_RETENTION_DAYS).",
        )
        parser.add_argument("--apply", action="store_true", help="Delete (without it, only say what would go).")
        parser.add_argument("--batch-size", type=int, default=500, help="Conversations deleted per transaction.")

    def handle(self, *args, older_than: str | None, apply: bool, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if older_than is not None:
            try:
                age = retention.age_parse(older_than)
            except ValueError as exc:
                raise CommandError(f"--older-than: {exc}") from None
        else:
            age = retention.retention_age()
            if age is None:
                self.stdout.write(
                    "Conversations are kept forever (CHAT_RETENTION_DAYS is 0 or unset): nothing to purge. "
                    "Give --older-than (e.g. 365d) to purge anyway."
                )
                return
        cutoff = timezone.now() - age
        owners = retention.purge_preview(cutoff=cutoff)
        kept = retention.conversations_in_flight(cutoff=cutoff)
        total = sum(o.conversations for o in owners)
        when = f"last active before {cutoff:%Y-%m-%d %H:%M} UTC ({age.days} days ago)"
        kept_note = f"; {_plural(kept, 'conversation')} kept with a reply in flight" if kept else ""

        if not apply:
            for owner in owners[:PREVIEW_OWNERS]:
                self.stdout.write(
                    f"  {owner.email}: {_plural(owner.conversations, 'conversation')}, "
                    f"{_plural(owner.messages, 'message')}"
                )
            if len(owners) > PREVIEW_OWNERS:
                self.stdout.write(f"  ... and {_plural(len(owners) - PREVIEW_OWNERS, 'more user')}")
            messages = sum(o.messages for o in owners)
            self.stdout.write(
                f"Dry run: would delete {_plural(total, 'conversation')} ({_plural(messages, 'message')}) of "
                f"{_plural(len(owners), 'user')}, {when}{kept_note}. Shares made from them stay (snapshots). "
                "Run again with --apply to delete."
            )
            return

        with progress(self, total=total, desc="Deleting conversations", unit="conv") as bar:
            purged = retention.conversations_purge(
                cutoff=cutoff, batch_size=batch_size, on_batch=lambda batch: bar.update(batch.conversations)
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {_plural(purged.conversations, 'conversation')} ({_plural(purged.messages, 'message')}) "
                f"of {_plural(len(owners), 'user')}, {when}{kept_note}."
            )
        )
