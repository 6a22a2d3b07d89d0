"""Todos: CRUD, validation, the search filters (title, calendar day in a time zone, complete)."""

from datetime import UTC, datetime

import pytest

from tests.todos.factories import TodoFactory
from todos.models import Todo

pytestmark = pytest.mark.django_db

TODOS = "/api/v1/todos"
SEARCH = "/api/v1/todos/search"


def todo_url(todo) -> str:
    return f"{TODOS}/{todo.pk}"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


# --- CRUD ---------------------------------------------------------------------------------------


def test_create_and_read(user_client, user):
    response = user_client.post(
        TODOS, {"title": "Pay rent", "description": "before noon", "todo_date": "2026-03-01T09:00:00+09:00"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Pay rent"
    assert body["complete"] is False
    assert body["completed_at"] is None
    todo = Todo.objects.get(pk=body["id"])
    assert todo.owner == user
    assert todo.todo_date == at("2026-03-01T00:00:00+00:00")
    assert user_client.get(todo_url(todo)).json()["title"] == "Pay rent"


def test_create_complete_sets_completed_at(user_client):
    body = user_client.post(TODOS, {"title": "Done already", "complete": True}).json()
    assert body["complete"] is True
    assert body["completed_at"] is not None


def test_patch_changes_only_given_fields_and_tracks_completion(user_client, user):
    todo = TodoFactory(owner=user, title="Write", description="draft", todo_date=at("2026-03-01T10:00:00+00:00"))
    body = user_client.patch(todo_url(todo), {"complete": True}).json()
    assert body["complete"] is True
    assert body["completed_at"] is not None
    assert body["description"] == "draft"
    assert body["todo_date"] is not None

    # JSON types as the schema declares them: the string "false" is not a boolean.
    refused = user_client.patch(todo_url(todo), {"complete": "false"})
    assert refused.status_code == 400 and refused.json() == {"complete": ["Must be true or false."]}
    body = user_client.patch(todo_url(todo), {"complete": False}).json()
    assert body["complete"] is False
    assert body["completed_at"] is None


def test_put_replaces_the_todo(user_client, user):
    todo = TodoFactory(owner=user, title="Old", description="old", todo_date=at("2026-03-01T10:00:00+00:00"))
    response = user_client.put(todo_url(todo), {"title": "New"})
    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["description"], body["todo_date"], body["complete"]) == ("New", "", None, False)
    response = user_client.put(todo_url(todo), {"description": "no title"})
    assert response.status_code == 400
    assert "title" in response.json()


def test_delete(user_client, user):
    todo = TodoFactory(owner=user)
    assert user_client.delete(todo_url(todo)).status_code == 204
    assert not Todo.objects.filter(pk=todo.pk).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "x", "description": "d" * 5001}, "description"),
        ({"title": "x", "todo_date": "tomorrow"}, "todo_date"),
        ({"title": "x", "complete": "maybe"}, "complete"),
    ],
)
def test_create_validation_names_the_field(user_client, payload, field):
    response = user_client.post(TODOS, payload)
    assert response.status_code == 400
    assert field in response.json()
    assert not Todo.objects.exists()


def test_unauthenticated_is_401(api_client, user):
    todo = TodoFactory(owner=user)
    for method, url in [
        ("get", TODOS),
        ("post", TODOS),
        ("get", SEARCH),
        ("get", todo_url(todo)),
        ("put", todo_url(todo)),
        ("patch", todo_url(todo)),
        ("delete", todo_url(todo)),
    ]:
        assert getattr(api_client, method)(url).status_code == 401, (method, url)


def test_outsider_gets_404(outsider_client, user):
    todo = TodoFactory(owner=user, title="private")
    assert outsider_client.get(todo_url(todo)).status_code == 404
    assert outsider_client.put(todo_url(todo), {"title": "hijack"}).status_code == 404
    assert outsider_client.patch(todo_url(todo), {"title": "hijack"}).status_code == 404
    assert outsider_client.delete(todo_url(todo)).status_code == 404
    assert titles(outsider_client.get(TODOS)) == []
    assert titles(outsider_client.get(SEARCH, {"title": "private"})) == []
    todo.refresh_from_db()
    assert todo.title == "private"


# --- search -------------------------------------------------------------------------------------


@pytest.fixture
def todos(user, outsider):
    TodoFactory(owner=user, title="Buy milk", todo_date=at("2026-03-01T23:30:00+00:00"))
    TodoFactory(owner=user, title="Call MOM", todo_date=at("2026-03-01T08:00:00+00:00"), complete=True)
    TodoFactory(owner=user, title="buy stamps", todo_date=at("2026-03-02T15:30:00+00:00"))
    TodoFactory(owner=user, title="Someday", todo_date=None)
    TodoFactory(owner=outsider, title="Buy outsider things", todo_date=at("2026-03-01T12:00:00+00:00"))


@pytest.mark.parametrize("url", [TODOS, SEARCH])
def test_no_filter_means_all_ordered_by_date_then_id(user_client, todos, url):
    assert titles(user_client.get(url)) == ["Call MOM", "Buy milk", "buy stamps", "Someday"]


@pytest.mark.parametrize("url", [TODOS, SEARCH])
def test_title_is_case_insensitive_contains(user_client, todos, url):
    assert titles(user_client.get(url, {"title": "BUY"})) == ["Buy milk", "buy stamps"]
    assert titles(user_client.get(url, {"title": "mom"})) == ["Call MOM"]


@pytest.mark.parametrize("url", [TODOS, SEARCH])
def test_date_is_a_calendar_day_in_the_given_zone(user_client, todos, url):
    # 2026-03-01T23:30Z is 08:30 on 2 March in Seoul (UTC+9).
    assert titles(user_client.get(url, {"date": "2026-03-01"})) == ["Call MOM", "Buy milk"]
    assert titles(user_client.get(url, {"date": "2026-03-01", "tz": "UTC"})) == ["Call MOM", "Buy milk"]
    assert titles(user_client.get(url, {"date": "2026-03-02", "tz": "Asia/Seoul"})) == ["Buy milk"]
    assert titles(user_client.get(url, {"date": "2026-03-01", "tz": "Asia/Seoul"})) == ["Call MOM"]
    # Los Angeles is UTC-8: 08:00Z is exactly midnight (included), 15:30Z on 2 March is 07:30 that day.
    assert titles(user_client.get(url, {"date": "2026-03-01", "tz": "America/Los_Angeles"})) == ["Call MOM", "Buy milk"]
    assert titles(user_client.get(url, {"date": "2026-03-02", "tz": "America/Los_Angeles"})) == ["buy stamps"]
    assert titles(user_client.get(url, {"date": "2026-02-28", "tz": "America/Los_Angeles"})) == []
    assert titles(user_client.get(url, {"date": "2026-03-03"})) == []


def test_day_bounds_follow_daylight_saving(user_client, user):
    # Clocks in New York go forward on 2026-03-08: that day is 23 hours long (05:00Z to 04:00Z).
    TodoFactory(owner=user, title="last minute", todo_date=at("2026-03-09T03:59:00+00:00"))
    TodoFactory(owner=user, title="next day", todo_date=at("2026-03-09T04:00:00+00:00"))
    assert titles(user_client.get(SEARCH, {"date": "2026-03-08", "tz": "America/New_York"})) == ["last minute"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", ["Call MOM"]),
        ("True", ["Call MOM"]),
        ("1", ["Call MOM"]),
        ("false", ["Buy milk", "buy stamps", "Someday"]),
    ],
)
def test_complete_is_a_boolean(user_client, todos, value, expected):
    assert titles(user_client.get(SEARCH, {"complete": value})) == expected


def test_filters_combine(user_client, todos):
    response = user_client.get(SEARCH, {"title": "buy", "date": "2026-03-02", "tz": "Asia/Seoul", "complete": "false"})
    assert titles(response) == ["Buy milk"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"complete": "maybe"}, "complete"),
        ({"date": "2026-02-30"}, "date"),
        ({"date": "01/03/2026"}, "date"),
        ({"date": "2026-03-01T00:00"}, "date"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"tz": "../../etc/passwd"}, "tz"),
        ({"title": "x" * 201}, "title"),
    ],
)
@pytest.mark.parametrize("url", [TODOS, SEARCH])
def test_bad_filters_are_400_naming_the_field(user_client, url, params, field):
    response = user_client.get(url, params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("url", [TODOS, SEARCH])
@pytest.mark.parametrize("rows", [1, 100])
def test_list_query_count_is_constant(user_client, user, django_assert_num_queries, url, rows):
    TodoFactory.create_batch(rows, owner=user, title="Buy", todo_date=at("2026-03-01T12:00:00+00:00"))
    # 1 auth, 2 count, 3 the page of todos.
    with django_assert_num_queries(3):
        response = user_client.get(url, {"title": "buy", "date": "2026-03-01", "complete": "false"})
    assert response.json()["count"] == rows
