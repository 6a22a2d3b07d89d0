"""The optional embedding model (``EmbeddingSettings``): vectors for passages, and the re-rank of
BM25's candidates by cosine similarity with the question's vector.

Off by default, and then nothing here is called. On, a file's or note's passages get their
vectors in a background job after indexing (``tasks.embed_passages_job``), and each retrieval
embeds the question (one call, bounded by the row's timeout). Any failure of the upstream falls
back to BM25 alone: the embedding model improves retrieval, it never stops it.

The base URL is chosen by staff in the admin, as a model row's is (conversations' model catalog
has the same trust: the local model itself is a loopback URL), and its key variable passes the
one rule of ``core.api_key_env``.
"""

import logging
import math
import os
import time
from array import array
from urllib.parse import urlsplit

import httpx

from core.api_key_env import api_key_env_problem

from .models import EmbeddingSettings, Passage, PassageEmbedding

logger = logging.getLogger(__name__)

BATCH = 32
_CACHE_SECONDS = 10.0
_cached: tuple[float, EmbeddingSettings | None] = (0.0, None)


class EmbeddingError(Exception):
    pass


def active_settings() -> EmbeddingSettings | None:
    """The embedding settings when enabled and complete (read at most every 10 s), else None."""
    global _cached
    now = time.monotonic()
    if now - _cached[0] > _CACHE_SECONDS:
        row = EmbeddingSettings.objects.filter(pk=1).first()
        _cached = (now, row if row and row.enabled and row.base_url and row.model else None)
    return _cached[1]


def forget_settings() -> None:
    """Read the row again at the next use (after the admin saved it)."""
    global _cached
    _cached = (0.0, None)


def _where(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, for logs and errors: its credentials (``user:pass@``),
    path and query (``?key=``) never are."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def embed(texts: list[str], *, config: EmbeddingSettings) -> list[array]:
    """One vector per text from ``POST {base_url}/embeddings``; EmbeddingError on any failure."""
    headers = {}
    if config.api_key_env:
        if api_key_env_problem(config.api_key_env) is not None:
            raise EmbeddingError("the embedding settings' API key variable is not allowed on this server")
        key = os.environ.get(config.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
    url = config.base_url.rstrip("/") + "/embeddings"
    try:
        response = httpx.post(
            url,
            json={"model": config.model, "input": texts},
            headers=headers,
            timeout=config.timeout_seconds,
            follow_redirects=False,
        )
        response.raise_for_status()
        data = sorted(response.json()["data"], key=lambda d: d["index"])
        vectors = [array("f", (float(x) for x in d["embedding"])) for d in data]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise EmbeddingError(f"{_where(url)}: {exc.__class__.__name__}") from None
    if len(vectors) != len(texts):
        raise EmbeddingError(f"{_where(url)}: {len(vectors)} vectors for {len(texts)} texts")
    return vectors


def cosine(a: array, b: array) -> float:
    if len(a) != len(b):
        return 0.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def passages_embed(*, passage_ids: list[int]) -> int:
    """Vectors for those of the passages that lack one of the current model; how many written."""
    config = active_settings()
    if config is None:
        return 0
    todo = list(
        Passage.objects.filter(pk__in=passage_ids)
        .exclude(embedding__model=config.model)
        .only("id", "text")
        .order_by("id")
    )
    written = 0
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        vectors = embed([p.text for p in batch], config=config)
        PassageEmbedding.objects.filter(passage__in=batch).delete()
        PassageEmbedding.objects.bulk_create(
            PassageEmbedding(passage=p, model=config.model, vector=v.tobytes())
            for p, v in zip(batch, vectors, strict=True)
        )
        written += len(batch)
    return written


def question_vector(question: str, *, config: EmbeddingSettings) -> array:
    """The question's vector, or an empty one when the upstream fails (retrieval is then BM25
    alone). No database: a reply computes it on a thread of its own, not on the few threads every
    reply's rows are written from, so a slow upstream stalls no other reply."""
    try:
        (vector,) = embed([question], config=config)
    except EmbeddingError as exc:
        logger.warning("embeddings unavailable, BM25 alone: %s", exc)
        return array("f")
    return vector


def rerank(question: str, scores: dict[int, float], *, query: array | None = None) -> dict[int, float]:
    """BM25 ``scores`` blended with the cosine similarity of each passage's vector to the
    question's (``query``, computed here when not given): ``(1 - weight) * bm25 / best + weight *
    cosine``. Unchanged when embeddings are off, the upstream fails (an empty ``query``), or no
    candidate has a vector of the current model."""
    config = active_settings()
    if config is None or not scores or (query is not None and not len(query)):
        return scores
    vectors = {
        pk: array("f", bytes(blob))
        for pk, blob in PassageEmbedding.objects.filter(passage_id__in=list(scores), model=config.model).values_list(
            "passage_id", "vector"
        )
    }
    if not vectors:
        return scores
    if query is None:
        query = question_vector(question, config=config)
        if not len(query):
            return scores
    best = max(scores.values()) or 1.0
    weight = config.weight
    return {
        pk: (1 - weight) * score / best + weight * (cosine(query, vectors[pk]) if pk in vectors else 0.0)
        for pk, score in scores.items()
    }
