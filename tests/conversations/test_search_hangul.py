"""Conversation, collector and todo search find Korean words (a word inside a sentence, a particle
attached), on SQLite and on PostgreSQL (run with DATABASE_URL=postgres://...).

Text pasted from macOS (file names, some editors) may hold Hangul decomposed into jamo (NFD) while a
keyboard types composed syllables (NFC): the two look the same and must match each other.
"""

import unicodedata

import pytest

from tests.collector.factories import ItemFactory
from tests.conversations.factories import ConversationFactory, MessageFactory
from tests.todos.factories import TodoFactory

pytestmark = pytest.mark.django_db

NFD = lambda text: unicodedata.normalize("NFD", text)  # noqa: E731


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return {str(row["id"]) for row in rows}


def test_conversation_search_finds_a_korean_word_in_a_sentence(user_client, user, outsider):
    by_content = ConversationFactory(owner=user, title="글쓰기")
    MessageFactory(conversation=by_content, content="답변은 마크다운으로 써 주세요.")
    by_title = ConversationFactory(owner=user, title="마크다운 표 만들기")
    decomposed = ConversationFactory(owner=user, title=NFD("맥에서 붙여 넣은 마크다운 문서"))
    ConversationFactory(owner=user, title="마크 다운")  # the letters, not the word
    theirs = ConversationFactory(owner=outsider, title="마크다운")

    found = _ids(user_client.get("/api/v1/conversations", {"q": "마크다운"}))
    assert found == {str(by_content.pk), str(by_title.pk), str(decomposed.pk)}
    assert str(theirs.pk) not in found
    # ...and a decomposed query finds the composed text.
    assert str(by_content.pk) in _ids(user_client.get("/api/v1/conversations", {"q": NFD("마크다운으로")}))
    assert _ids(user_client.get("/api/v1/conversations", {"q": "파이썬"})) == set()


def test_collector_search_finds_korean_keywords(user_client, user):
    note = ItemFactory(owner=user, title="회의 메모", content="다음 주 회의는 마크다운으로 정리해 주세요.")
    link = ItemFactory(owner=user, title=NFD("마크다운 문법 안내"), content="")
    ItemFactory(owner=user, title="장보기", content="우유, 계란")

    assert _ids(user_client.get("/api/v1/collector/items", {"q": "마크다운"})) == {str(note.pk), str(link.pk)}
    # Every keyword must match (AND).
    assert _ids(user_client.get("/api/v1/collector/items", {"q": "마크다운, 회의"})) == {str(note.pk)}
    assert _ids(user_client.get("/api/v1/collector/items", {"q": NFD("정리해")})) == {str(note.pk)}


def test_todo_search_finds_a_korean_word_in_a_title(user_client, user):
    todo = TodoFactory(owner=user, title="보고서를 마크다운으로 바꾸기")
    decomposed = TodoFactory(owner=user, title=NFD("마크다운 문서 검토"))
    TodoFactory(owner=user, title="운동하기")

    found = _ids(user_client.get("/api/v1/todos/search", {"title": "마크다운"}))
    assert found == {str(todo.pk), str(decomposed.pk)}
    assert _ids(user_client.get("/api/v1/todos", {"title": "바꾸기"})) == {str(todo.pk)}
