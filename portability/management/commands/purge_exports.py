from django.core.management.base import BaseCommand

from portability import services


class Command(BaseCommand):
    help = (
        "Delete the files of user exports past their expiry (PORTABILITY_EXPORT_DAYS); their rows stay, marked "
        "expired. Each new export does this too; run it daily where exports are rare."
    )

    def handle(self, *args, **options):
        purged = services.exports_purge_expired()
        self.stdout.write(f"Deleted the files of {purged} expired export(s).")
