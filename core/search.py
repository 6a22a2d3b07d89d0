"""Substring search that finds Korean as typed, on SQLite and PostgreSQL alike.

``icontains`` already finds a Korean word inside a sentence on both databases (Hangul has no case,
and a particle attached to the word, "마크다운으로", still contains it). What it misses: the same
syllables in two Unicode forms. Keyboards type composed syllables (NFC, "마" is one code point);
text from macOS (file names, some editors and pastes) may hold them decomposed into jamo (NFD,
"ᄆ" + "ᅡ"), which look identical on screen. The stored text is left as written, so a search
asks for both forms of what was typed.
"""

import unicodedata

from django.db.models import Q


def text_forms(text: str) -> list[str]:
    """``text`` composed and decomposed (one entry when both are the same, as for ASCII)."""
    forms = [unicodedata.normalize("NFC", text)]
    decomposed = unicodedata.normalize("NFD", text)
    if decomposed != forms[0]:
        forms.append(decomposed)
    return forms


def icontains(field: str, text: str) -> Q:
    """``field__icontains=text`` in either Unicode form of ``text``."""
    query = Q()
    for form in text_forms(text):
        query |= Q(**{f"{field}__icontains": form})
    return query
