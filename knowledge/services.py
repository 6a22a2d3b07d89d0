"""Writes of the knowledge app: a source's passages, (re)built from its text. Each is idempotent:
the source's passages are replaced as a whole, in one transaction."""

from django.conf import settings
from django.db import transaction

from collector.models import Item, ItemKind
from files.models import FilePage, FileStatus, StoredFile

from . import embeddings
from .chunking import chunk_pages
from .models import Passage
from .tasks import embed_passages_job
from .terms import index_terms


def _passage(*, chunk, ordinal: int, **source) -> Passage:
    # Stored between spaces: SQLite finds " term " in it with instr (knowledge/search.py).
    terms = f" {index_terms(chunk.text)} "
    return Passage(
        **source, ordinal=ordinal, page=chunk.page, text=chunk.text, terms=terms, term_count=len(set(terms.split()))
    )


def _embed_later(rows: list[Passage]) -> None:
    # The optional vectors come from an upstream: after commit, in the job worker, never here.
    if rows and embeddings.active_settings() is not None:
        ids = [row.pk for row in rows]
        transaction.on_commit(lambda: embed_passages_job.enqueue(ids))


def _chunks(pages: list[tuple[int | None, str]]):
    config = settings.KNOWLEDGE
    return chunk_pages(pages, size=config["PASSAGE_CHARS"], overlap=config["PASSAGE_OVERLAP"])


def passages_index_file(*, file: StoredFile) -> int:
    """The file's passages, from its extracted pages (none unless it is ready); how many."""
    pages = []
    if file.status == FileStatus.READY:
        pages = list(FilePage.objects.filter(file=file).order_by("number").values_list("number", "text"))
    rows = [
        _passage(chunk=chunk, ordinal=i, owner_id=file.owner_id, file=file) for i, chunk in enumerate(_chunks(pages))
    ]
    with transaction.atomic():
        Passage.objects.filter(file=file).delete()
        Passage.objects.bulk_create(rows, batch_size=500)
        _embed_later(rows)
    return len(rows)


def item_text(item: Item) -> str:
    """What of a note or link is searched: its title, its address and its content."""
    return "\n\n".join(part for part in (item.title, item.url, item.content) if part)


def passages_index_item(*, item: Item) -> int:
    """A note's or link's passages, from its own text; a file item has none of its own (its
    stored file's passages are found through it). How many."""
    rows = []
    if item.kind != ItemKind.FILE:
        chunks = _chunks([(None, item_text(item))])
        rows = [_passage(chunk=chunk, ordinal=i, owner_id=item.owner_id, item=item) for i, chunk in enumerate(chunks)]
    with transaction.atomic():
        Passage.objects.filter(item=item).delete()
        Passage.objects.bulk_create(rows, batch_size=500)
        _embed_later(rows)
    return len(rows)


def passages_reindex(*, owner_id: int | None = None) -> dict[str, int]:
    """Every source's passages rebuilt (one owner's, or everyone's): counts of files, items, passages."""
    files = StoredFile.objects.filter(status=FileStatus.READY)
    items = Item.objects.exclude(kind=ItemKind.FILE)
    stale = Passage.objects.all()
    if owner_id is not None:
        files, items, stale = (
            files.filter(owner_id=owner_id),
            items.filter(owner_id=owner_id),
            stale.filter(owner_id=owner_id),
        )
    # Passages of files no longer ready, and of items that became files, go first.
    stale.exclude(file__status=FileStatus.READY).filter(file__isnull=False).delete()
    stale.filter(item__kind=ItemKind.FILE).delete()
    counts = {"files": 0, "items": 0, "passages": 0}
    for file in files.iterator(chunk_size=200):
        counts["passages"] += passages_index_file(file=file)
        counts["files"] += 1
    for item in items.iterator(chunk_size=200):
        counts["passages"] += passages_index_item(item=item)
        counts["items"] += 1
    return counts
