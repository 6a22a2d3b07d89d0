"""Rebuild the passages of every ready file and every note and link (or one user's)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from knowledge.services import passages_reindex


class Command(BaseCommand):
    help = "Rebuild the knowledge passages of every ready file and every collector note and link."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", metavar="EMAIL", help="Only this user's files and items.")

    def handle(self, *args, user: str | None = None, **options) -> None:
        owner_id = None
        if user:
            found = get_user_model().objects.filter(email__iexact=user).values_list("pk", flat=True).first()
            if found is None:
                raise CommandError(f"No user with the email {user}.")
            owner_id = found
        counts = passages_reindex(owner_id=owner_id)
        self.stdout.write(
            f"Indexed {counts['files']} file(s) and {counts['items']} item(s): {counts['passages']} passage(s)."
        )
