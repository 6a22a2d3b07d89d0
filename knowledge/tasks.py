"""Background jobs of the knowledge app (django-tasks, run by the job worker)."""

import logging

from django_tasks import task

from . import embeddings

logger = logging.getLogger(__name__)


@task()
def embed_passages_job(passage_ids: list[int]) -> int:
    """Vectors for freshly indexed passages (when embeddings are enabled). An upstream failure
    leaves them without: retrieval ranks them by BM25, and ``knowledge_reindex`` tries again."""
    try:
        return embeddings.passages_embed(passage_ids=passage_ids)
    except embeddings.EmbeddingError as exc:
        logger.warning("passages left without vectors: %s", exc)
        return 0
