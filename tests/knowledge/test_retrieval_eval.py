"""The committed retrieval evaluation (knowledge/eval/), through the real indexing and retrieve():
recall@5 >= 0.9 in each language, on whichever database the tests run on."""

import pytest

from bench.retrieval_eval import evaluate
from knowledge import eval as data

pytestmark = pytest.mark.django_db


def test_the_evaluation_set_is_sound():
    docs = data.documents()
    questions = data.questions()
    assert len(docs) == 6 and all(len(pages) >= 2 for pages in docs.values())
    for lang in ("ko", "en"):
        assert sum(q.lang == lang for q in questions) >= 20
    for q in questions:
        text = "\n".join(docs[q.document])
        assert text.count(q.answer) == 1, q.answer  # the answer phrase names one place
        assert q.answer not in q.question  # the question does not quote it


def test_recall_at_5_is_at_least_0_9_in_each_language(user):
    results = evaluate(user)
    assert set(results) == {"ko", "en"}
    for lang, row in results.items():
        assert row["recall"] >= 0.9, (lang, row["misses"])
