"""Service rules the API tests do not reach: settings and profile updates write only what changed."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import Plan, UserSettings

pytestmark = pytest.mark.django_db


def _writes(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if q["sql"].startswith(("UPDATE", "INSERT"))]


def test_settings_update_with_nothing_different_writes_nothing(user):
    with CaptureQueriesContext(connection) as ctx:
        services.user_settings_update(user=user, theme="system", language="", plan="free")
    assert _writes(ctx) == []


def test_settings_update_writes_only_the_changed_columns(user):
    with CaptureQueriesContext(connection) as ctx:
        services.user_settings_update(user=user, theme="dark", language="")
    [update] = _writes(ctx)
    assert '"theme"' in update and '"updated_at"' in update and '"language"' not in update


def test_a_plan_switch_clears_the_renewal_date_and_validates_what_changed(user):
    Plan.objects.filter(slug="plus").update(selectable_by_user=True)
    UserSettings.objects.filter(user=user).update(plan_renews_at=datetime(2030, 1, 1, tzinfo=UTC))

    row = services.user_settings_update(user=user, plan="plus")

    assert (row.plan.slug, row.plan_renews_at) == ("plus", None)
    assert UserSettings.objects.get(user=user).plan == Plan.objects.get(slug="plus")
    with pytest.raises(ValidationError) as exc:
        services.user_settings_update(user=user, theme="sepia")
    assert set(exc.value.message_dict) == {"theme"}


def test_user_update_with_the_same_name_writes_nothing(user):
    with CaptureQueriesContext(connection) as ctx:
        services.user_update(user=user, display_name=" Alice ")
    assert _writes(ctx) == []
