"""save_changed: the one 'update only what changed' every service uses."""

import pytest
from auditlog.context import disable_auditlog
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Plan, UserSettings
from conversations.models import Conversation, LLMModel
from core.services import save_changed
from sharing.models import Share
from tests.conversations.factories import ConversationFactory, LLMModelFactory
from tests.todos.factories import TodoFactory
from todos.models import Todo

pytestmark = pytest.mark.django_db


def _updates(ctx) -> list[str]:
    return [query["sql"] for query in ctx.captured_queries if query["sql"].startswith("UPDATE")]


def test_nothing_differs_nothing_is_written(user, django_assert_num_queries):
    todo = TodoFactory(owner=user, title="Same", complete=False)

    with django_assert_num_queries(0):
        assert save_changed(todo, title="Same", complete=False) == []
        assert save_changed(todo) == []


def test_only_the_changed_columns_and_updated_at_are_written(user):
    todo = TodoFactory(owner=user, title="Before", description="kept")
    before = todo.updated_at

    with CaptureQueriesContext(connection) as ctx:
        changed = save_changed(todo, title="After", description="kept")

    assert changed == ["title"]
    [update] = _updates(ctx)
    assert '"title"' in update and '"updated_at"' in update
    assert '"description"' not in update and '"complete"' not in update
    todo.refresh_from_db()
    assert (todo.title, todo.description) == ("After", "kept")
    assert todo.updated_at > before


def test_a_model_without_updated_at_writes_only_the_changed_columns(user):
    share = Share.objects.create(owner=user, title="Old", messages=[])

    with CaptureQueriesContext(connection) as ctx:
        assert save_changed(share, title="New") == ["title"]

    [update] = _updates(ctx)
    assert '"title"' in update and '"revoked_at"' not in update
    assert Share.objects.get(pk=share.pk).title == "New"


def test_a_foreign_key_is_compared_by_id_without_loading_the_related_row(user, django_assert_num_queries):
    model = LLMModel.objects.get(is_default=True)
    conversation = Conversation.objects.only("id", "model_id").get(pk=ConversationFactory(owner=user, model=model).pk)

    with django_assert_num_queries(0):
        assert save_changed(conversation, model=model) == []

    other = LLMModelFactory()
    with django_assert_num_queries(1):  # the UPDATE
        assert save_changed(conversation, model=other) == ["model"]
    assert Conversation.objects.get(pk=conversation.pk).model == other


def test_validate_checks_the_changed_fields_before_anything_is_written(user):
    todo = TodoFactory(owner=user, title="Short")

    with pytest.raises(ValidationError) as exc:
        save_changed(todo, validate=True, title="x" * 201)

    assert set(exc.value.message_dict) == {"title"}
    assert Todo.objects.get(pk=todo.pk).title == "Short"


def test_validate_leaves_unchanged_fields_and_relations_alone(user, django_assert_num_queries):
    # A stored value the model would refuse today is not this write's business.
    UserSettings.objects.filter(user=user).update(theme="sepia")
    row = UserSettings.objects.get(user=user)
    plus = Plan.objects.get(slug="plus")

    # The UPDATE only: the plan just read is not looked up again (the audit trail's own reads and
    # writes for a plan change are not this function's, and are left out here).
    with disable_auditlog(), django_assert_num_queries(1):
        assert save_changed(row, validate=True, language="fr", plan=plus) == ["language", "plan"]
