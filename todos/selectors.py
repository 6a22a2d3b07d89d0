"""Reads for todos, always scoped to one owner."""

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.db.models import F, QuerySet

from core.search import icontains

from .models import Todo


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[midnight, next midnight) of a calendar day in ``tz``; DST days are 23 or 25 hours long."""
    return datetime.combine(day, time.min, tzinfo=tz), datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def todo_list(
    *,
    user,
    title: str | None = None,
    date: date | None = None,
    complete: bool | None = None,
    tz: tzinfo = UTC,
) -> QuerySet[Todo]:
    todos = Todo.objects.filter(owner=user)
    if title:
        todos = todos.filter(icontains("title", title))  # both forms of Korean (core.search)
    if date is not None:
        start, end = day_bounds(date, tz)
        todos = todos.filter(todo_date__gte=start, todo_date__lt=end)
    if complete is not None:
        todos = todos.filter(complete=complete)
    return todos.order_by(F("todo_date").asc(nulls_last=True), "id")
