"""The database's part of retrieval: which passages of a scope contain which query terms.

One question to the full-text index of the database in use (made by migration 0002), answered
the same way by both: every passage of the owner's scope that contains at least one of the
question's selective terms, with its number of distinct terms and which of all the question's
terms it contains (a bit mask). ``knowledge.retrieval`` ranks them (BM25) the same way on both, so
SQLite and PostgreSQL choose the same passages.

Common terms (in more than ``COMMON_FRACTION`` of all passages, by the index's own counts, once
the database holds ``COMMON_AFTER`` passages) do not select passages, they only score those the
rarer terms selected: a question's "company" or "회사" would otherwise have the database read most
of a 10,000-passage scope, for terms that weigh little in the ranking. At least ``MIN_SELECTIVE``
of the rarest terms always select.

- PostgreSQL: the GIN index on the stored ``search`` tsvector finds the passages; each
  ``search @@ 'term'`` is a binary search in that row's vector, so the mask costs little and no
  text leaves the database.
- SQLite: the FTS5 table finds them; the mask is ``instr`` over each passage's terms, in SQLite.
"""

import time
from dataclasses import dataclass, field

from django.db import connection

COMMON_FRACTION = 0.02
COMMON_AFTER = 20_000
MIN_SELECTIVE = 3
SQLITE_PROBE = 2000
_STATS_SECONDS = 300.0
_stats_cache: dict[str, tuple[float, object]] = {}


@dataclass(frozen=True)
class Match:
    passage_id: int
    distinct_terms: int
    mask: int  # bit i: the passage contains query term i


@dataclass(frozen=True)
class Found:
    matches: list[Match]
    # Terms that did not select (index in the question -> their share of all passages): their
    # counts among ``matches`` are not their counts in the scope.
    common: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    owner_id: int
    file_ids: tuple[str, ...]
    item_ids: tuple[int, ...]

    def where(self, alias: str = "") -> tuple[str, list]:
        """The SQL condition of "the owner's passages of these files and items"."""
        prefix = f"{alias}." if alias else ""
        sources = []
        params: list = [self.owner_id]
        if self.file_ids:
            sources.append(f"{prefix}file_id IN ({', '.join(['%s'] * len(self.file_ids))})")
            params.extend(_file_id_param(f) for f in self.file_ids)
        if self.item_ids:
            sources.append(f"{prefix}item_id IN ({', '.join(['%s'] * len(self.item_ids))})")
            params.extend(self.item_ids)
        return f"{prefix}owner_id = %s AND ({' OR '.join(sources) or 'FALSE'})", params


def _file_id_param(file_id: str) -> str:
    # Django stores UUIDs as 32 hex characters on SQLite, as uuid on PostgreSQL.
    return file_id.replace("-", "") if connection.vendor == "sqlite" else file_id


def count_passages(scope: Scope) -> int:
    where, params = scope.where()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM knowledge_passage WHERE {where}", params)  # noqa: S608 (placeholders only)
        return cursor.fetchone()[0]


def _cached(key: str, compute):
    now = time.monotonic()
    hit = _stats_cache.get(key)
    if hit is None or now - hit[0] > _STATS_SECONDS:
        hit = (now, compute())
        _stats_cache[key] = hit
    return hit[1]


def _shares(terms: list[str]) -> dict[str, float]:
    """Each term's estimated share of all passages (terms too rare to be counted are left out),
    or nothing while the database is small: then every term selects."""
    if connection.vendor == "postgresql":
        total, common = _cached(f"pg:{connection.alias}", _postgresql_stats)
        if total < COMMON_AFTER:
            return {}
        return {t: common[t] for t in terms if t in common}
    total = _cached(f"sqlite:{connection.alias}", _sqlite_total)
    if total < COMMON_AFTER:
        return {}
    # FTS5 has no cheap document count per term (its vocabulary table reads the whole posting
    # list): count at most SQLITE_PROBE passages per term, enough to tell a common term.
    shares = {}
    with connection.cursor() as cursor:
        for term in terms:
            cursor.execute(
                "SELECT count(*) FROM (SELECT rowid FROM knowledge_passage_fts WHERE knowledge_passage_fts MATCH %s "
                "LIMIT %s)",
                [f'"{term}"', SQLITE_PROBE],
            )
            found = cursor.fetchone()[0]
            if found:
                # A term at the cap is common whatever the total; its share, unknown, is taken
                # as twice the common threshold (BM25 weighs it little, not nothing).
                shares[term] = max(found / total, 2 * COMMON_FRACTION) if found >= SQLITE_PROBE else found / total
    return shares


def _postgresql_stats() -> tuple[float, dict[str, float]]:
    # ANALYZE's (autovacuum's) statistics: the table's size and the most common lexemes of
    # ``search`` with the share of rows holding each (pg_stats.most_common_elems).
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'knowledge_passage'::regclass")
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE schemaname = current_schema() AND tablename = 'knowledge_passage' AND attname = 'search'"
        )
        row = cursor.fetchone()
    common = dict(zip(row[0], row[1], strict=False)) if row and row[0] else {}
    return total, common


def _sqlite_total() -> int:
    # The largest id: as many as the passages ever written, enough to tell a small database.
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM knowledge_passage")
        return cursor.fetchone()[0]


def _selective(terms: list[str]) -> tuple[list[str], dict[int, float]]:
    shares = _shares(terms)
    rarest = sorted(range(len(terms)), key=lambda i: shares.get(terms[i], 0.0))
    keep = {i for n, i in enumerate(rarest) if n < MIN_SELECTIVE or shares.get(terms[i], 0.0) <= COMMON_FRACTION}
    common = {i: shares[terms[i]] for i in range(len(terms)) if i not in keep}
    return [terms[i] for i in sorted(keep)], common


def matches(scope: Scope, terms: list[str], *, limit: int) -> Found:
    """The scope's passages containing any of the selective ``terms`` (at most ``limit``, those
    with most terms first), each with a mask over all ``terms``."""
    if not terms:
        return Found([])
    selecting, common = _selective(terms)
    if connection.vendor == "postgresql":
        return Found(_postgresql(scope, terms, selecting, limit), common)
    if connection.vendor == "sqlite":
        return Found(_sqlite(scope, terms, selecting, common, limit), common)
    raise NotImplementedError(f"knowledge search has no index on {connection.vendor}")


def _postgresql(scope: Scope, terms: list[str], selecting: list[str], limit: int) -> list[Match]:
    where, params = scope.where()
    # Terms are letters and digits only (knowledge.terms), quoted as tsquery lexemes all the same.
    lexemes = [f"'{term}'" for term in terms]
    mask = " + ".join(f"((search @@ %s::tsquery)::int << {i})" for i in range(len(terms)))
    # The mask of the ``limit`` passages with most selective terms only (ts_rank: term counts;
    # the cut is rare: a question's selective terms are in few passages of a scope).
    sql = (
        f"SELECT id, term_count, {mask} AS mask FROM ("  # noqa: S608 (placeholders only)
        f"SELECT id, term_count, search FROM knowledge_passage WHERE {where} AND search @@ %s::tsquery "
        "ORDER BY ts_rank(search, %s::tsquery, 0) DESC, id LIMIT %s) AS found"
    )
    any_term = " | ".join(f"'{term}'" for term in selecting)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*lexemes, *params, any_term, any_term, limit])
        return [Match(row[0], row[1], row[2]) for row in cursor.fetchall()]


def _sqlite(scope: Scope, terms: list[str], selecting: list[str], common: dict[int, float], limit: int) -> list[Match]:
    where, params = scope.where("p")
    # Which terms each passage holds, found in its space-separated terms by SQLite itself (no
    # text comes to Python); most selective terms first when a huge scope is cut at ``limit``.
    holds = ["(instr(p.terms, %s) > 0)" for _ in terms]  # terms are stored between spaces
    mask = " + ".join(f"({hold} << {i})" for i, hold in enumerate(holds))
    selective = set(selecting)
    chosen = [hold for hold, term in zip(holds, terms, strict=True) if term in selective]
    chosen_params = [f" {term} " for term in terms if term in selective]
    if any(terms.index(term) in common for term in selecting) or _sqlite_probe_full(selecting):
        # A selecting term is in thousands of passages of the whole database: reading the scope
        # itself costs less than the index's answer.
        condition, condition_params = f"({' OR '.join(chosen)})", chosen_params
    else:
        condition = "p.id IN (SELECT rowid FROM knowledge_passage_fts WHERE knowledge_passage_fts MATCH %s)"
        condition_params = [" OR ".join(f'"{term}"' for term in selecting)]
    # The mask of the ``limit`` passages with most selecting terms only.
    sql = (
        f"SELECT p.id, p.term_count, {mask} AS mask FROM knowledge_passage p WHERE p.id IN ("  # noqa: S608 (placeholders only)
        f"SELECT p.id FROM knowledge_passage p WHERE {where} AND {condition} "
        f"ORDER BY {' + '.join(chosen)} DESC, p.id LIMIT %s)"
    )
    padded = [f" {term} " for term in terms]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*padded, *params, *condition_params, *chosen_params, limit])
        return [Match(row[0], row[1], row[2]) for row in cursor.fetchall()]


def _sqlite_probe_full(selecting: list[str]) -> bool:
    """Whether the index holds at least SQLITE_PROBE passages with any of the terms."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT rowid FROM knowledge_passage_fts WHERE knowledge_passage_fts MATCH %s "
            "LIMIT %s)",
            [" OR ".join(f'"{term}"' for term in selecting), SQLITE_PROBE],
        )
        return cursor.fetchone()[0] >= SQLITE_PROBE
