"""Bring the translation catalogs up to date with the source (``makemessages`` for every language
of ``settings.LANGUAGES``, with the project's options): new strings arrive untranslated, for a
person to translate; the CI check (tests/config/test_translations.py) fails until they are."""

import re

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

# Not the service's own text: tests, benchmarks, the web client (its catalogs are frontend/src/locales).
IGNORED = ["tests/*", "testsupport/*", "bench/*", "frontend/*", "docs/*", "media/*", "staticfiles/*", "logs/*"]


def update_catalogs(**options) -> None:
    call_command(
        "makemessages",
        locale=[code for code, _name in settings.LANGUAGES],
        ignore_patterns=IGNORED,
        add_location="never",  # no line numbers: a catalog changes only when a string does
        no_obsolete=True,
        verbosity=options.get("verbosity", 1),
    )
    # makemessages stamps every catalog with the time it ran: drop it, so a catalog changes (and
    # two branches conflict) only when its strings do.
    from .compile_translations import catalogs

    # And it leaves "Language:" empty, which would make the compiled catalog use English plural
    # rules: name the catalog's language.
    for path in catalogs():
        text = re.sub(r'^"POT-Creation-Date: [^"]*"\n', "", path.read_text(encoding="utf-8"), flags=re.M)
        text = text.replace('"Language: \\n"', f'"Language: {path.parent.parent.name}\\n"', 1)
        path.write_text(text, encoding="utf-8")


class Command(BaseCommand):
    help = "Update every language's catalogs (locale/*.po) with the strings of the source."

    def handle(self, *args, **options):
        update_catalogs(verbosity=options["verbosity"])
