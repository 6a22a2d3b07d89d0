"""It stays bilingual: every string the server says to people is in the catalogs, and every
catalog entry has its Korean. (The web client's catalogs are checked by frontend/test/i18n.test.mjs.)

Adding a string without running ``manage.py update_translations`` and translating it fails here.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings

from core.management.commands.compile_translations import catalogs

BASE = Path(settings.BASE_DIR)
COPY_IGNORED = shutil.ignore_patterns(
    ".*", "__pycache__", "node_modules", "frontend", "media", "staticfiles", "logs", "*.sqlite3*", "*.mo", "artifacts"
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


def _entries(path: Path):
    with path.open("rb") as po:
        return [m for m in read_po(po) if m.id]


def _msgids(path: Path) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in _entries(path)}


@pytest.mark.parametrize("path", [p for p in catalogs() if p.parent.parent.name == "ko"], ids=str)
def test_every_korean_entry_is_translated(path):
    missing, fuzzy, broken = [], [], []
    for message in _entries(path):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            missing.append(ids[0])
        if message.fuzzy:
            fuzzy.append(ids[0])
        if sorted(PLACEHOLDER.findall(ids[0])) != sorted(PLACEHOLDER.findall(strings[0] or ids[0])):
            broken.append(ids[0])
    assert not missing, f"untranslated in {path}: {missing}"
    assert not fuzzy, f"fuzzy (unchecked) in {path}: {fuzzy}"
    assert not broken, f"placeholders differ in {path}: {broken}"


@pytest.mark.slow
def test_catalogs_hold_every_string_of_the_source(tmp_path):
    """``manage.py update_translations`` on a copy of the source changes no catalog's strings."""
    copy = tmp_path / "src"
    shutil.copytree(BASE, copy, ignore=COPY_IGNORED)
    subprocess.run(
        [sys.executable, "manage.py", "update_translations", "--verbosity", "0"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    ours = {p.relative_to(BASE.resolve()): _msgids(p) for p in catalogs()}
    fresh = {p.relative_to(copy): _msgids(p) for p in copy.glob("**/locale/*/LC_MESSAGES/django.po")}
    assert set(fresh) == set(ours), "a catalog is missing or extra: run manage.py update_translations"
    for rel, ids in fresh.items():
        assert ids == ours[rel], (
            f"{rel}: not in the catalog {sorted(ids - ours[rel])[:10]}; no longer in the source "
            f"{sorted(ours[rel] - ids)[:10]}: run manage.py update_translations and translate"
        )
