"""Knowledge: how files and collector items are cut into passages and how many reach a reply."""

from .env import env

KNOWLEDGE = {
    # A passage is cut at paragraph, then sentence boundaries, at most this many characters,
    # and repeats up to OVERLAP characters of the passage before it (a fact on a boundary is
    # whole in one of the two).
    "PASSAGE_CHARS": env.int("KNOWLEDGE_PASSAGE_CHARS", default=800),
    "PASSAGE_OVERLAP": env.int("KNOWLEDGE_PASSAGE_OVERLAP", default=120),
    # At most this many passages reach a reply (fewer when the budget is spent first).
    "TOP_K": env.int("KNOWLEDGE_TOP_K", default=8),
    # Passages scoring under this fraction of the best one are dropped: a weak match is noise.
    "MIN_RELATIVE_SCORE": env.float("KNOWLEDGE_MIN_RELATIVE_SCORE", default=0.25),
    # The token budget of the passages of one reply when the caller names none.
    "BUDGET_TOKENS": env.int("KNOWLEDGE_BUDGET_TOKENS", default=3000),
    # How many of the database's best matches are re-scored (BM25) in Python.
    "CANDIDATES": env.int("KNOWLEDGE_CANDIDATES", default=400),
}
