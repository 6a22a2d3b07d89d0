"""Choosing the passages a reply is built from: ``retrieve(...)`` -> ``list[Hit]``, best first,
within a token budget.

1. The scope: the owner's files named, and the owner's collector items named (an item's own
   passages, and its stored file's, reported as the item). Another user's file or item id finds
   nothing: every query filters on the owner.
2. The database finds the passages containing any of the question's terms (knowledge/search.py);
   they are ranked here by BM25 over the scope (term presence, k1 = 1.2, b = 0.75): a term found
   in few of the scope's passages counts for more, a long passage for less per term.
3. Passages under ``MIN_RELATIVE_SCORE`` of the best are dropped, at most ``TOP_K`` kept, each
   only if it still fits ``budget_tokens`` (``terms.estimate_tokens``); the overlap a passage
   shares with the one before it, when both are chosen, is sent once.
4. With the optional embedding model (``EmbeddingSettings``), BM25's best are re-ranked by the
   cosine similarity of their vectors to the question's (knowledge/embeddings.py).
5. A question matching nothing ("summarise this file") gets the start of each source, taken in
   turn while the budget lasts, ``TOP_K`` passages at most (as a question that matched).
"""

import math
import uuid
from array import array
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from collector.models import Item
from files.models import FileStatus, StoredFile

from . import embeddings, search
from .models import Passage
from .terms import estimate_tokens, query_terms

K1 = 1.2
B = 0.75
# The mask of matched terms is a 32-bit integer on PostgreSQL; a longer question keeps its first terms.
MAX_QUERY_TERMS = 31
# How many passages per source the fallback (nothing matched) reads at most, and the fewest tokens
# a passage is taken to cost there (how many of a large scope's passages could fit the budget).
FALLBACK_PASSAGES_PER_SOURCE = 40
FALLBACK_MIN_TOKENS = 100


@dataclass(frozen=True)
class Hit:
    kind: str  # "file" | "item"
    source_id: str
    title: str
    page: int | None
    text: str
    score: float


@dataclass(frozen=True)
class _Source:
    kind: str
    source_id: str
    title: str


def _config(name: str):
    return settings.KNOWLEDGE[name]


def _sources(owner_id: int, file_ids, item_ids) -> tuple[search.Scope, dict, dict]:
    """The scope, and the source each passage is reported as: by file id, and by item id."""
    by_file: dict[str, _Source] = {}
    by_item: dict[int, _Source] = {}
    wanted_files = {str(f) for f in file_ids}
    if wanted_files:
        # Only files read well: a file read again and failed keeps its old passages until they are
        # re-indexed, and they must not answer for it meanwhile.
        ready = StoredFile.objects.filter(owner_id=owner_id, pk__in=_valid_uuids(wanted_files), status=FileStatus.READY)
        for pk, name in ready.values_list("pk", "name"):
            by_file[str(pk)] = _Source("file", str(pk), name)
    ids = [int(i) for i in item_ids if str(i).isdigit()]
    if ids:
        items = Item.objects.filter(owner_id=owner_id, pk__in=ids).values_list(
            "pk", "title", "stored_file_id", "stored_file__status"
        )
        for pk, title, stored_file_id, file_status in items:
            source = _Source("item", str(pk), title)
            by_item[pk] = source
            # A file named both as an attachment and through an item is reported as the file.
            if file_status == FileStatus.READY and str(stored_file_id) not in by_file:
                by_file[str(stored_file_id)] = source
    scope = search.Scope(owner_id=owner_id, file_ids=tuple(by_file), item_ids=tuple(by_item))
    return scope, by_file, by_item


def _valid_uuids(values) -> list[str]:
    valid = []
    for value in values:
        try:
            valid.append(str(uuid.UUID(value)))
        except ValueError:
            continue  # not a file id: names nothing
    return valid


def _bm25(result: search.Found, terms: list[str], total: int) -> dict[int, float]:
    """Each found passage's BM25 score; ``total`` passages in the scope. Document frequencies are
    counted over the found passages (every passage of the scope containing a selective term is
    among them, unless the scope was cut); a common term's is estimated from its share of all
    passages, when that is more."""
    found = result.matches
    if not found:
        return {}
    df = [0] * len(terms)
    for match in found:
        mask = match.mask
        i = 0
        while mask:
            if mask & 1:
                df[i] += 1
            mask >>= 1
            i += 1
    total = max(total, len(found))
    for i, share in result.common.items():
        df[i] = max(df[i], min(total, round(share * total)))
    idf = [math.log(1 + (total - n + 0.5) / (n + 0.5)) for n in df]
    avgdl = sum(m.distinct_terms for m in found) / len(found) or 1.0
    scores = {}
    for match in found:
        weight = sum(idf[i] for i in range(len(terms)) if match.mask >> i & 1)
        norm = (K1 + 1) / (1 + K1 * (1 - B + B * match.distinct_terms / avgdl))
        scores[match.passage_id] = weight * norm
    return scores


def _source_of(passage, by_file: dict, by_item: dict) -> _Source:
    if passage.file_id is not None:
        return by_file[str(passage.file_id)]
    return by_item[passage.item_id]


def _overlap(before: str, after: str) -> int:
    """How many characters at the start of ``after`` repeat the end of ``before``."""
    longest = min(len(before), len(after), _config("PASSAGE_OVERLAP") + 1)
    for size in range(longest, 7, -1):  # a few equal characters are a coincidence, not an overlap
        if before.endswith(after[:size]):
            return size
    return 0


def retrieve(
    *,
    owner_id: int,
    question: str,
    file_ids=(),
    item_ids=(),
    budget_tokens: int | None = None,
    question_vector: array | None = None,
) -> list[Hit]:
    """The owner's passages of the given files and items most relevant to ``question``, best
    first, their texts within ``budget_tokens`` (``KNOWLEDGE["BUDGET_TOKENS"]`` when None).

    ``question_vector``: the question's embedding computed beforehand, off the database thread
    (``embeddings.question_vector``; empty when that failed); None has it computed here when the
    embedding model is on."""
    budget = _config("BUDGET_TOKENS") if budget_tokens is None else budget_tokens
    scope, by_file, by_item = _sources(owner_id, file_ids, item_ids)
    if budget <= 0 or not (scope.file_ids or scope.item_ids):
        return []
    terms = query_terms(question)[:MAX_QUERY_TERMS]
    found = search.matches(scope, terms, limit=_config("CANDIDATES"))
    if not found.matches:
        return _starts(scope, by_file, by_item, budget)
    scores = _bm25(found, terms, search.count_passages(scope))
    if embeddings.active_settings() is not None:
        # The optional vectors re-rank BM25's best (their vectors are read, not all 400).
        best_first = sorted(scores, key=lambda pid: (-scores[pid], pid))[: _config("TOP_K") * 6]
        scores = embeddings.rerank(question, {pid: scores[pid] for pid in best_first}, query=question_vector)
    best = max(scores.values())
    floor = best * _config("MIN_RELATIVE_SCORE")
    ranked = sorted((pid for pid, s in scores.items() if s >= floor), key=lambda pid: (-scores[pid], pid))
    ranked = ranked[: _config("TOP_K") * 3]  # room for those the budget or the dedupe skips
    passages = Passage.objects.only("id", "file_id", "item_id", "ordinal", "page", "text").in_bulk(ranked)
    # (A passage deleted meanwhile, its source re-indexed, is simply left out.)
    candidates = [(passages[pid], scores[pid]) for pid in ranked if pid in passages]
    return _fill(candidates, by_file, by_item, budget, limit=_config("TOP_K"), terms=terms)


# A passage cut to fit what is left of the budget is worth sending only with this much room.
MIN_CUT_TOKENS = 48


def _cut_to_fit(text: str, room: int, terms) -> str:
    """The part of ``text`` around its first matching term that fits ``room`` tokens (from the
    start of that sentence when it is near). A small model's window holds less than one Korean
    passage of the default size (three tokens a syllable), so the best passage goes cut, not at all."""
    lowered = text.lower()
    found = [at for at in (lowered.find(term) for term in terms) if at >= 0]
    start = min(found) if found else 0
    sentence = max(text.rfind(mark, 0, start) for mark in (". ", "? ", "! ", "\n", "다. "))
    if sentence >= 0 and start - sentence <= 200:
        start = sentence + 1
    piece = text[start:].strip()
    low, high = 0, len(piece)
    while low < high:  # the longest prefix of ``piece`` that fits
        middle = (low + high + 1) // 2
        if estimate_tokens(piece[:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    return piece[:low].rstrip()


def _fill(candidates, by_file, by_item, budget: int, *, limit: int | None, terms=()) -> list[Hit]:
    hits: list[Hit] = []
    chosen: dict[tuple[str, int], str] = {}  # (source, ordinal) -> text sent
    seen_texts: set[str] = set()
    spent = 0
    for passage, score in candidates:
        if limit is not None and len(hits) >= limit:
            break
        source = _source_of(passage, by_file, by_item)
        text = passage.text
        key = " ".join(text.split())
        if key in seen_texts:
            continue  # the same text in two sources (one document uploaded twice)
        # Neighbours already chosen: the repeated sentences are sent once, with the earlier one.
        before = chosen.get((source.source_id, passage.ordinal - 1))
        if before is not None:
            text = text[_overlap(before, text) :].lstrip()
        after = chosen.get((source.source_id, passage.ordinal + 1))
        if after is not None:
            text = text[: len(text) - _overlap(passage.text, after)].rstrip()
        cost = estimate_tokens(text)
        if spent + cost > budget:
            if hits or budget - spent < MIN_CUT_TOKENS:
                continue
            text = _cut_to_fit(text, budget - spent, terms)  # the best passage, cut to the window
            cost = estimate_tokens(text)
            if not text or spent + cost > budget:
                continue
        spent += cost
        seen_texts.add(key)
        chosen[(source.source_id, passage.ordinal)] = passage.text
        hits.append(Hit(source.kind, source.source_id, source.title, passage.page, text, round(score, 4)))
    return hits


def _starts(scope: search.Scope, by_file, by_item, budget: int) -> list[Hit]:
    """Nothing matched: the first passages of each source in turn, while the budget lasts, at most
    ``TOP_K`` of them (a large model's budget alone would let hundreds through)."""
    limit = _config("TOP_K")
    per_source: dict[str, list] = {}
    sources = len(scope.file_ids) + len(scope.item_ids)
    depth = min(FALLBACK_PASSAGES_PER_SOURCE, limit, budget // (FALLBACK_MIN_TOKENS * sources) + 1)
    rows = (
        Passage.objects.filter(owner_id=scope.owner_id, ordinal__lt=depth)
        .filter(Q(file_id__in=scope.file_ids) | Q(item_id__in=scope.item_ids))
        .only("id", "file_id", "item_id", "ordinal", "page", "text")
        .order_by("ordinal", "id")
    )
    for passage in rows:
        per_source.setdefault(_source_of(passage, by_file, by_item).source_id, []).append(passage)
    interleaved = []
    for rank in range(FALLBACK_PASSAGES_PER_SOURCE):
        interleaved.extend((ps[rank], 0.0) for ps in per_source.values() if rank < len(ps))
    # In turn, but a source's passages never skip one: stop a source at its first that does not fit.
    hits = []
    spent = 0
    stopped: set[str] = set()
    for passage, score in interleaved:
        if len(hits) >= limit:
            break
        source = _source_of(passage, by_file, by_item)
        if source.source_id in stopped:
            continue
        cost = estimate_tokens(passage.text)
        if spent + cost > budget:
            stopped.add(source.source_id)
            continue
        spent += cost
        hits.append(Hit(source.kind, source.source_id, source.title, passage.page, passage.text, score))
    return hits
