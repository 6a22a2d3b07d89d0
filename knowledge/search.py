"""The database's part of retrieval: which passages of a scope contain which query terms.

One question to the full-text index of the database in use (made by migration 0002), answered
the same way by both: every passage of the owner's scope that contains at least one of the terms,
with its number of distinct terms and which of the query's terms it contains (a bit mask).
``knowledge.retrieval`` ranks them (BM25) the same way on both, so SQLite and PostgreSQL choose
the same passages.

- PostgreSQL: the GIN index on the stored ``search`` tsvector finds the passages; each
  ``search @@ 'term'`` is a binary search in that row's vector, so the mask costs little and no
  text leaves the database.
- SQLite: the FTS5 table finds them; the mask is computed here from the passages' terms (the
  database is in the process: nothing crosses a network).
"""

from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class Match:
    passage_id: int
    distinct_terms: int
    mask: int  # bit i: the passage contains query term i


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


def matches(scope: Scope, terms: list[str], *, limit: int) -> list[Match]:
    """The scope's passages containing any of ``terms`` (at most ``limit``, most terms first)."""
    if not terms:
        return []
    if connection.vendor == "postgresql":
        return _postgresql(scope, terms, limit)
    if connection.vendor == "sqlite":
        return _sqlite(scope, terms, limit)
    raise NotImplementedError(f"knowledge search has no index on {connection.vendor}")


def _postgresql(scope: Scope, terms: list[str], limit: int) -> list[Match]:
    where, params = scope.where()
    # Terms are letters and digits only (knowledge.terms), quoted as tsquery lexemes all the same.
    lexemes = [f"'{term}'" for term in terms]
    mask = " + ".join(f"((search @@ %s::tsquery)::int << {i})" for i in range(len(terms)))
    sql = (
        f"SELECT id, length(search), {mask} AS mask FROM knowledge_passage "  # noqa: S608 (placeholders only)
        f"WHERE {where} AND search @@ %s::tsquery "
        # Most query terms first when a huge scope is cut at ``limit`` (the cut is rare: a scope
        # holds thousands of passages, and a question's rare terms are in few of them).
        "ORDER BY ts_rank(search, %s::tsquery, 0) DESC, id LIMIT %s"
    )
    any_term = " | ".join(lexemes)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*lexemes, *params, any_term, any_term, limit])
        return [Match(row[0], row[1], row[2]) for row in cursor.fetchall()]


def _sqlite(scope: Scope, terms: list[str], limit: int) -> list[Match]:
    where, params = scope.where("p")
    query = " OR ".join(f'"{term}"' for term in terms)
    sql = (
        "SELECT p.id, p.terms FROM knowledge_passage p "  # noqa: S608 (placeholders only)
        f"WHERE {where} AND p.id IN (SELECT rowid FROM knowledge_passage_fts WHERE knowledge_passage_fts MATCH %s)"
    )
    bits = {term: 1 << i for i, term in enumerate(terms)}
    found = []
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, query])
        for passage_id, text in cursor.fetchall():
            distinct = set(text.split())
            mask = 0
            for term in distinct.intersection(bits):
                mask |= bits[term]
            found.append(Match(passage_id, len(distinct), mask))
    found.sort(key=lambda m: (-m.mask.bit_count(), m.passage_id))
    return found[:limit]
