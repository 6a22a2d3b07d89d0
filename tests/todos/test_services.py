"""Service rules the API tests do not reach: the title rule and writing only what changed."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.todos.factories import TodoFactory
from todos import services
from todos.models import Todo

pytestmark = pytest.mark.django_db


def _statements(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_todo_titles_follow_the_one_title_rule(user):
    todo = services.todo_create(user=user, title="  Buy\x07  milk\n and eggs ")
    assert todo.title == "Buy milk and eggs"

    for blank in ("", " \t", "\x00\x07"):
        with pytest.raises(ValidationError) as exc:
            services.todo_update(todo=todo, title=blank)
        assert exc.value.message_dict == {"title": ["A todo needs a title."]}
    with pytest.raises(ValidationError) as exc:
        services.todo_update(todo=todo, title="x" * 201)
    assert "title" in exc.value.message_dict
    assert Todo.objects.get(pk=todo.pk).title == "Buy milk and eggs"


def test_todo_update_with_nothing_different_writes_nothing(user):
    todo = TodoFactory(owner=user, title="Same", description="d")
    with CaptureQueriesContext(connection) as ctx:
        services.todo_update(todo=todo, title=" Same", description="d", todo_date=None, complete=False)
    assert _statements(ctx) == []


def test_todo_update_writes_only_the_changed_columns(user):
    todo = TodoFactory(owner=user, title="Same", description="old")
    with CaptureQueriesContext(connection) as ctx:
        services.todo_update(todo=todo, title="Same", description="new", complete=True)
    [update] = _statements(ctx)
    assert all(f'"{name}"' in update for name in ("description", "complete", "completed_at", "updated_at"))
    assert '"title"' not in update and '"todo_date"' not in update
    todo.refresh_from_db()
    assert (todo.description, todo.complete, todo.completed_at is not None) == ("new", True, True)
