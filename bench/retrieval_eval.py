"""Retrieval evaluation: recall@5 of ``knowledge.retrieval.retrieve`` per language.

    .venv/bin/python bench/retrieval_eval.py                        # a throw-away SQLite database
    DATABASE_URL=postgres://... .venv/bin/python bench/retrieval_eval.py --keep-db   # an existing one

The documents and questions are knowledge/eval/. One user owns the six documents as files
(indexed through ``file_ready``, as an extracted upload is), each question is asked with all six
in scope, and it counts as found when a passage holding its answer phrase is among the first five
hits. Everything written is rolled back at the end. tests/knowledge/test_retrieval_eval.py
asserts the same figures (>= 0.9 per language) on the test database.
"""

import argparse
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
K = 5
# Large enough that only the ranking decides: recall@5 measures which passages come first.
EVAL_BUDGET_TOKENS = 100_000


def evaluate(owner) -> dict:
    """Index the documents as ``owner``'s files and ask every question; per language
    ``{"questions", "found", "recall", "misses": [(question, answer, first hit)]}``."""
    from files.models import FilePage, FileStatus, StoredFile
    from files.signals import file_ready
    from knowledge import eval as data
    from knowledge.retrieval import retrieve

    file_ids = {}
    for name, pages in data.documents().items():
        file = StoredFile.objects.create(
            owner=owner,
            name=name,
            content_type="text/plain",
            size=sum(len(p.encode()) for p in pages),
            blob=f"files/{owner.pk}/{name}",
            status=FileStatus.READY,
            pages=len(pages),
        )
        FilePage.objects.bulk_create(FilePage(file=file, number=i + 1, text=t) for i, t in enumerate(pages))
        file_ready.send(sender=StoredFile, file=file)
        file_ids[name] = str(file.pk)

    from knowledge.models import Passage

    passages = Passage.objects.filter(owner=owner).count()
    results: dict = defaultdict(lambda: {"questions": 0, "found": 0, "first": 0, "misses": [], "passages": passages})
    for q in data.questions():
        hits = retrieve(
            owner_id=owner.pk, question=q.question, file_ids=list(file_ids.values()), budget_tokens=EVAL_BUDGET_TOKENS
        )[:K]
        found = any(h.source_id == file_ids[q.document] and q.answer in h.text for h in hits)
        row = results[q.lang]
        row["questions"] += 1
        row["found"] += found
        row["first"] += bool(hits) and hits[0].source_id == file_ids[q.document] and q.answer in hits[0].text
        if not found:
            row["misses"].append((q.question, q.answer, hits[0].text[:60] if hits else None))
    for row in results.values():
        row["recall"] = row["found"] / row["questions"]
    return dict(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep-db", action="store_true", help="use DATABASE_URL as it is (migrated first)")
    parser.add_argument(
        "--plain-words",
        action="store_true",
        help="for comparison: index and ask with plain lowercased words (no Korean bigrams, no stemming)",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if not args.keep_db or not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/eval.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.models import User

    call_command("migrate", verbosity=0)
    if args.plain_words:
        import re

        from knowledge import terms

        terms._tokens = lambda text: (w for w in re.findall(r"[^\W_]+", text.lower()) if w not in terms.ENGLISH_STOP)
    with transaction.atomic():
        owner = User.objects.create(email="retrieval-eval@example.com")
        results = evaluate(owner)
        transaction.set_rollback(True)
    passages = next(iter(results.values()))["passages"]
    method = "plain words" if args.plain_words else "terms: Korean bigrams, English stems"
    print(f"database: {connection.vendor}; {method}; all six documents in scope ({passages} passages)")
    for lang, row in sorted(results.items()):
        print(
            f"  {lang}: recall@{K} {row['found']}/{row['questions']} = {row['recall']:.3f}; "
            f"first hit right {row['first']}/{row['questions']}"
        )
        for question, answer, first in row["misses"]:
            print(f"    missed: {question!r} (answer {answer!r}; first hit {first!r})")


if __name__ == "__main__":
    main()
