"""core/zips.py reads what a zip's end record declares (a private part of zipfile: this fails
loudly if the standard library moves it)."""

import io
import zipfile

import pytest

from core.zips import zip_directory


def _zip(count: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for index in range(count):
            package.writestr(f"part-{index:06d}.txt", b"x")
    return out.getvalue()


# 300 parts, and 70,000: past 65,535 only the ZIP64 end record holds the count.
@pytest.mark.parametrize("count", [300, 70_000])
def test_the_end_record_says_the_parts_and_the_directory_size(count):
    directory = zip_directory(io.BytesIO(_zip(count)))
    assert directory.entries == count
    assert directory.directory_bytes == count * (46 + len("part-000000.txt"))  # fixed header + name


def test_not_a_zip_has_none():
    assert zip_directory(io.BytesIO(b"%PDF-1.4 not a zip" * 100)) is None
