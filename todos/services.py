"""Writes for todos. ``completed_at`` follows ``complete`` so history is kept without client help."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.services import save_changed
from core.titles import title_clean

from .models import Todo

_UNSET = object()
TITLE_MAX_LENGTH = Todo._meta.get_field("title").max_length


def _required_title(title: str | None) -> str:
    title = title_clean(title, max_length=TITLE_MAX_LENGTH)
    if not title:
        raise ValidationError({"title": [_("A todo needs a title.")]})
    return title


def _date_clean(todo_date: datetime | None) -> datetime | None:
    if todo_date is not None and timezone.is_naive(todo_date):
        raise ValidationError({"todo_date": [_("Give a time zone (e.g. 2026-03-01T09:00:00+09:00).")]})
    return todo_date


@transaction.atomic
def todo_create(
    *, user, title: str, description: str = "", todo_date: datetime | None = None, complete: bool = False
) -> Todo:
    todo = Todo(
        owner=user,
        title=_required_title(title),
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
    changes: dict = {}
    if title is not _UNSET:
        changes["title"] = _required_title(title)  # type: ignore[arg-type]
    if description is not _UNSET:
        changes["description"] = description or ""
    if todo_date is not _UNSET:
        changes["todo_date"] = _date_clean(todo_date)  # type: ignore[arg-type]
    if complete is not _UNSET and bool(complete) != todo.complete:
        changes["complete"] = bool(complete)
        changes["completed_at"] = timezone.now() if complete else None
    save_changed(todo, validate=True, **changes)
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
