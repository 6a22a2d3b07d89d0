"""Writes for todos. ``completed_at`` follows ``complete`` so history is kept without client help."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import Todo

_UNSET = object()


def _title_clean(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": ["A todo needs a title."]})
    return title


def _date_clean(todo_date: datetime | None) -> datetime | None:
    if todo_date is not None and timezone.is_naive(todo_date):
        raise ValidationError({"todo_date": ["Give a time zone (e.g. 2026-03-01T09:00:00+09:00)."]})
    return todo_date


@transaction.atomic
def todo_create(
    *, user, title: str, description: str = "", todo_date: datetime | None = None, complete: bool = False
) -> Todo:
    todo = Todo(
        owner=user,
        title=_title_clean(title),
        description=description or "",
        todo_date=_date_clean(todo_date),
        complete=complete,
        completed_at=timezone.now() if complete else None,
    )
    todo.full_clean(exclude=["owner"])
    todo.save()
    return todo


@transaction.atomic
def todo_update(
    *,
    todo: Todo,
    title: str | object = _UNSET,
    description: str | object = _UNSET,
    todo_date: datetime | None | object = _UNSET,
    complete: bool | object = _UNSET,
) -> Todo:
    changed: list[str] = []
    if title is not _UNSET:
        todo.title = _title_clean(title)  # type: ignore[arg-type]
        changed.append("title")
    if description is not _UNSET:
        todo.description = description or ""  # type: ignore[assignment]
        changed.append("description")
    if todo_date is not _UNSET:
        todo.todo_date = _date_clean(todo_date)  # type: ignore[arg-type]
        changed.append("todo_date")
    if complete is not _UNSET and bool(complete) != todo.complete:
        todo.complete = bool(complete)
        todo.completed_at = timezone.now() if todo.complete else None
        changed += ["complete", "completed_at"]
    if changed:
        todo.full_clean(exclude=["owner"])
        todo.save(update_fields=[*changed, "updated_at"])
    return todo


@transaction.atomic
def todo_delete(*, todo: Todo) -> None:
    todo.delete()


@transaction.atomic
def todos_set_complete(*, todos: QuerySet[Todo], complete: bool) -> int:
    """Bulk mark (admin action); rows already in that state keep their completed_at."""
    now = timezone.now()
    return todos.exclude(complete=complete).update(
        complete=complete, completed_at=now if complete else None, updated_at=now
    )
