"""Compile every translation catalog of the project (each app's ``locale/`` and the root's) into
the ``.mo`` files Django reads, with Babel: the install needs no GNU gettext (``makemessages``,
a developer's tool, does)."""

from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand


def catalogs() -> list[Path]:
    """The project's own ``.po`` files (not those of installed libraries)."""
    base = Path(settings.BASE_DIR).resolve()
    roots = [Path(p) for p in settings.LOCALE_PATHS]
    roots += [Path(app.path) / "locale" for app in apps.get_app_configs()]
    found: set[Path] = set()
    for root in roots:
        root = root.resolve()
        # Our apps only: not the libraries of a virtualenv that happens to live inside the project.
        if root.is_dir() and base in root.parents and "site-packages" not in root.parts:
            found.update(root.glob("*/LC_MESSAGES/*.po"))
    return sorted(found)


class Command(BaseCommand):
    help = "Compile the project's translation catalogs (locale/*/LC_MESSAGES/*.po) into .mo files."

    def handle(self, *args, **options):
        for po_path in catalogs():
            language = po_path.parent.parent.name
            with po_path.open("rb") as po:
                catalog = read_po(po, locale=language)
            if catalog.locale is None:
                # makemessages leaves the header's "Language:" empty, which Babel reads as no
                # locale: the .mo would then carry no Plural-Forms, gettext would fall back to
                # English's rule (n != 1) and miss every Korean plural entry but n == 1.
                catalog.locale = Locale.parse(language)
            with po_path.with_suffix(".mo").open("wb") as mo:
                write_mo(mo, catalog, use_fuzzy=False)
        self.stdout.write(f"compiled {len(catalogs())} catalogs")
