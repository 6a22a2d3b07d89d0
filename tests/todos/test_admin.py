"""The todos admin renders, searches, and its bulk actions report what they did."""

import pytest

from accounts.models import User
from tests.todos.factories import TodoFactory
from todos.models import Todo

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_web(client):
    admin = User.objects.create_superuser(email="root@example.com", password="Admin-pass-1")
    client.force_login(admin)
    return client


def test_changelist_renders_and_searches(admin_web, user, outsider):
    TodoFactory(owner=user, title="Alice task")
    TodoFactory(owner=outsider, title="Charlie task")
    response = admin_web.get("/admin/todos/todo/", {"q": "alice@example.com"})
    assert response.status_code == 200
    assert b"Alice task" in response.content
    assert b"Charlie task" not in response.content
    assert admin_web.get("/admin/todos/todo/", {"complete__exact": "1"}).status_code == 200


def test_bulk_actions(admin_web, user):
    todos = TodoFactory.create_batch(3, owner=user)
    ids = [todo.pk for todo in todos]
    response = admin_web.post("/admin/todos/todo/", {"action": "mark_complete", "_selected_action": ids}, follow=True)
    assert b"3 todos marked complete." in response.content
    assert Todo.objects.filter(complete=True, completed_at__isnull=False).count() == 3

    response = admin_web.post(
        "/admin/todos/todo/", {"action": "mark_incomplete", "_selected_action": ids[:1]}, follow=True
    )
    assert b"1 todo marked incomplete." in response.content
    assert Todo.objects.filter(complete=False, completed_at__isnull=True).count() == 1


def test_add_through_the_admin(admin_web, user):
    response = admin_web.post(
        "/admin/todos/todo/add/",
        {"owner": user.pk, "title": "From admin", "description": "", "complete": "on"},
    )
    assert response.status_code == 302, response.content
    todo = Todo.objects.get()
    assert (todo.owner, todo.title, todo.complete) == (user, "From admin", True)
    assert todo.completed_at is not None


def test_the_admin_speaks_korean_to_staff_who_chose_it(admin_web, user, settings):
    from django.utils import translation

    from accounts.models import Plan, UserSettings

    staff = User.objects.get(email="root@example.com")
    UserSettings.objects.update_or_create(user=staff, defaults={"language": "ko", "plan": Plan.objects.first()})
    ids = [todo.pk for todo in TodoFactory.create_batch(2, owner=user)]
    page = admin_web.get("/admin/todos/todo/").content.decode()
    assert "선택한 할 일을 완료로 표시" in page  # the action's label
    response = admin_web.post("/admin/todos/todo/", {"action": "mark_complete", "_selected_action": ids}, follow=True)
    # Two: a plural, which Korean writes in its one form (compile_translations keeps Plural-Forms).
    assert "할 일 2개를 완료로 표시했습니다." in response.content.decode()
    translation.activate(settings.LANGUAGE_CODE)  # the request's language stays active in this thread
