"""Cutting a source's text into passages of a bounded size, on paragraph and sentence boundaries.

A passage never spans two pages (it keeps its page number, which a source cites). Each passage
after the first on a page repeats the end of the one before it (up to ``overlap`` characters,
whole sentences where they fit), so a fact that straddles a cut is whole in one of them.
"""

import re
from dataclasses import dataclass

_PARAGRAPHS = re.compile(r"\n\s*\n")
# After ., !, ?, …, 。 (and their closing quotes or brackets) followed by a space or line break;
# a single line break inside a paragraph is a boundary too (lists, table rows, headings).
_SENTENCE_END = re.compile(r"(?<=[.!?…。？！])\s+|(?<=[.!?…。？！][\"'”’)\]])\s+|\n")
_SPACES = re.compile(r"[ \t\r\f\v]+")


@dataclass(frozen=True)
class Chunk:
    page: int | None
    text: str


def _sentences(paragraph: str, limit: int) -> list[str]:
    pieces = []
    for sentence in _SENTENCE_END.split(paragraph):
        sentence = sentence.strip()
        while len(sentence) > limit:
            # A sentence longer than a passage (a table row, a minified text): cut at the last
            # space before the limit, else at the limit.
            cut = sentence.rfind(" ", limit // 2, limit)
            cut = cut if cut > 0 else limit
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    return pieces


def _tail(sentences: list[str], overlap: int) -> list[str]:
    """The last whole sentences of a passage that fit in ``overlap`` characters."""
    kept: list[str] = []
    size = 0
    for sentence in reversed(sentences):
        if size + len(sentence) + 1 > overlap:
            break
        kept.insert(0, sentence)
        size += len(sentence) + 1
    return kept


def chunk_text(text: str, *, page: int | None = None, size: int = 800, overlap: int = 120) -> list[Chunk]:
    """``text`` cut into passages of at most ``size`` characters (one page's worth)."""
    chunks: list[Chunk] = []
    current: list[str] = []  # (sentences, with "\n\n" standing for a paragraph break)
    length = 0
    fresh = False  # whether ``current`` holds anything beyond the overlap it started with

    def flush() -> None:
        body = " ".join(current).replace(" \n\n ", "\n\n").strip()
        if body and fresh:
            chunks.append(Chunk(page=page, text=body))

    for paragraph in _PARAGRAPHS.split(text):
        paragraph = _SPACES.sub(" ", paragraph).strip()
        if not paragraph:
            continue
        if current and current[-1] != "\n\n":
            current.append("\n\n")
            length += 2
        for sentence in _sentences(paragraph, size - overlap):
            if length + len(sentence) + 1 > size and fresh:
                flush()
                current = _tail([s for s in current if s != "\n\n"], overlap)
                length = sum(len(s) + 1 for s in current)
                fresh = False
            current.append(sentence)
            length += len(sentence) + 1
            fresh = True
    flush()
    return chunks


def chunk_pages(pages: list[tuple[int | None, str]], *, size: int = 800, overlap: int = 120) -> list[Chunk]:
    """Every page's passages, in page order."""
    return [chunk for number, text in pages for chunk in chunk_text(text, page=number, size=size, overlap=overlap)]
