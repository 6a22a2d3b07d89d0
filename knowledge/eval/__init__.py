"""The retrieval evaluation's data: six short documents (three Korean, three English; pages
separated by a line "===") and questions whose answer passage is known by a phrase only it holds.
The questions use other particles, endings and inflections than the documents ("서울은" for
"서울에서", "migration" for "migrated"). Read by bench/retrieval_eval.py and its test."""

import json
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Question:
    lang: str
    document: str
    question: str
    answer: str  # a phrase found once in the document: the passage holding it is the answer


def documents() -> dict[str, list[str]]:
    """Each document's pages, by file name."""
    return {
        path.name: [page.strip() for page in path.read_text(encoding="utf-8").split("\n===\n")]
        for path in sorted((HERE / "documents").glob("*.txt"))
    }


def questions() -> list[Question]:
    return [Question(**q) for q in json.loads((HERE / "questions.json").read_text(encoding="utf-8"))]
