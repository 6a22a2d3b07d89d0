"""Profile, user settings and their parts, plans, and the staff settings endpoints."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import Plan, User, UserSettings
from tests.conversations.factories import AssistantMessageFactory, ConversationFactory, turn

pytestmark = pytest.mark.django_db

ME = "/api/v1/user"
SETTINGS = "/api/v1/user/settings"
SUBSCRIPTION = "/api/v1/user/settings/subscription"
THEME = "/api/v1/user/settings/theme"
NOTIFICATION = "/api/v1/user/settings/notification"

FULL_SETTINGS = {
    "theme": "dark",
    "language": "ko",
    "email_notifications": False,
    "push_notifications": True,
    "product_updates": True,
    "plan": "plus",
    "auto_renew": True,
}


@pytest.fixture
def plus_selectable():
    # What a billing integration would do; the seed leaves paid plans to staff.
    Plan.objects.filter(slug="plus").update(selectable_by_user=True)


def staff_settings_url(user_id, part=""):
    return f"/api/v1/users/{user_id}/settings{part}"


def settings_of(user) -> UserSettings:
    return UserSettings.objects.select_related("plan").get(user=user)


# --- profile --------------------------------------------------------------------------------


def test_get_profile(user_client, user):
    r = user_client.get(ME)

    assert r.status_code == 200
    assert r.json() == {
        "id": user.pk,
        "email": "alice@example.com",
        "display_name": "Alice",
        "is_staff": False,
        "date_joined": r.json()["date_joined"],
    }


def test_patch_profile_changes_only_the_display_name(user_client, user):
    r = user_client.patch(ME, {"display_name": "  Alice A.  ", "email": "evil@example.com", "is_staff": True})

    assert r.status_code == 200, r.content
    assert r.json()["display_name"] == "Alice A."
    user.refresh_from_db()
    assert (user.display_name, user.email, user.is_staff) == ("Alice A.", "alice@example.com", False)


@pytest.mark.parametrize("payload", [{"display_name": "x" * 151}, {"display_name": None}, {"display_name": ["a"]}])
def test_patch_profile_malformed_is_400(user_client, payload):
    r = user_client.patch(ME, payload, format="json")
    assert r.status_code == 400
    assert "display_name" in r.json()


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", ME),
        ("patch", ME),
        ("get", SETTINGS),
        ("put", SETTINGS),
        ("patch", SETTINGS),
        ("get", SUBSCRIPTION),
        ("put", SUBSCRIPTION),
        ("patch", SUBSCRIPTION),
        ("get", THEME),
        ("put", THEME),
        ("get", NOTIFICATION),
        ("put", NOTIFICATION),
        ("get", "/api/v1/users/1/settings"),
        ("put", "/api/v1/users/1/settings"),
        ("get", "/api/v1/users/1/settings/subscription"),
        ("put", "/api/v1/users/1/settings/subscription"),
    ],
)
def test_unauthenticated_is_401(api_client, user, method, url):
    r = getattr(api_client, method)(url, {}, format="json")
    assert r.status_code == 401


# --- settings -------------------------------------------------------------------------------


def test_get_settings_defaults(user_client):
    r = user_client.get(SETTINGS)

    assert r.status_code == 200
    assert r.json() == {
        "theme": "system",
        "language": "",
        "time_zone": "",
        "custom_instructions": "",
        "email_notifications": True,
        "push_notifications": False,
        "product_updates": False,
        "plan": "free",
        "auto_renew": False,
        "plan_renews_at": None,
    }


def test_put_settings_replaces_everything(user_client, user, plus_selectable):
    r = user_client.put(SETTINGS, FULL_SETTINGS)

    assert r.status_code == 200, r.content
    # What PUT leaves out (the fields added later) keeps its value.
    assert r.json() == {
        **FULL_SETTINGS,
        "language": "ko",
        "time_zone": "",
        "custom_instructions": "",
        "plan_renews_at": None,
    }
    row = settings_of(user)
    assert (row.theme, row.language, row.plan.slug, row.push_notifications) == ("dark", "ko", "plus", True)


@pytest.mark.parametrize("missing", sorted(FULL_SETTINGS))
def test_put_settings_requires_every_field(user_client, user, missing):
    payload = {k: v for k, v in FULL_SETTINGS.items() if k != missing}

    r = user_client.put(SETTINGS, payload)

    assert r.status_code == 400
    assert missing in r.json()
    assert settings_of(user).theme == "system"  # nothing half-applied


def test_patch_settings_changes_only_what_is_sent(user_client, user):
    r = user_client.patch(SETTINGS, {"theme": "light"})

    assert r.status_code == 200, r.content
    assert r.json()["theme"] == "light"
    row = settings_of(user)
    assert (row.theme, row.language, row.plan.slug) == ("light", "", "free")


def test_a_plan_staff_grant_is_403_not_a_malformed_request(user_client, user):
    r = user_client.patch(SETTINGS, {"plan": "pro"}, format="json")

    assert r.status_code == 403, r.content
    assert r.json()["code"] == "plan_not_selectable"
    assert settings_of(user).plan.slug == "free"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"theme": "neon"}, "theme"),
        ({"language": "english please"}, "language"),
        ({"language": "ko-KR"}, "language"),  # the schema's enum: exactly "ko", "en" or ""
        ({"time_zone": "Mars/Base"}, "time_zone"),
        ({"language": "x" * 17}, "language"),
        ({"email_notifications": "sometimes"}, "email_notifications"),
        ({"plan": "platinum"}, "plan"),
        ({"plan": "not a slug!"}, "plan"),
    ],
)
def test_patch_settings_malformed_is_400(user_client, user, payload, field):
    r = user_client.patch(SETTINGS, payload, format="json")

    assert r.status_code == 400, r.content
    assert field in r.json()
    row = settings_of(user)
    assert (row.theme, row.language, row.plan.slug) == ("system", "", "free")


def test_user_cannot_set_their_own_renewal_date(user_client, user):
    r = user_client.patch(SETTINGS, {"plan_renews_at": "2030-01-01T00:00:00Z"})

    assert r.status_code == 200
    assert settings_of(user).plan_renews_at is None


def test_garbage_body_is_400(user_client):
    r = user_client.generic("PATCH", SETTINGS, "{nope", content_type="application/json")
    assert r.status_code == 400


# --- subscription ---------------------------------------------------------------------------


def test_get_subscription(user_client):
    r = user_client.get(SUBSCRIPTION)

    assert r.status_code == 200
    body = r.json()
    assert (body["plan"], body["auto_renew"], body["plan_renews_at"]) == ("free", False, None)
    assert body["plan_details"] == {
        "slug": "free",
        "name": "Free",
        "daily_message_limit": 50,
        "max_concurrent_generations": 1,
        "storage_limit_bytes": 1024**3,
        "selectable_by_user": True,
    }


def _midnight_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def test_subscription_shows_the_messages_sent_today(user_client, user, outsider, django_assert_num_queries):
    midnight = _midnight_utc(timezone.now())
    conversation = ConversationFactory(owner=user)
    turn(conversation, created_at=midnight)  # today, the first instant
    # Regenerated: another version of the same reply, asked for all the same.
    AssistantMessageFactory(conversation=conversation, parent=conversation.messages.order_by("created_at").first())
    turn(conversation, created_at=midnight - timedelta(microseconds=1))  # yesterday
    turn(ConversationFactory(owner=outsider))  # someone else's
    deleted = ConversationFactory(owner=user)
    turn(deleted)
    deleted.delete()  # deleted since: it was sent all the same

    # device session (auth), the settings row with its plan, the messages sent today, the bytes of
    # files stored.
    with django_assert_num_queries(4):
        r = user_client.get(SUBSCRIPTION)

    assert r.status_code == 200
    assert r.json()["usage_today"] == {
        "messages_sent": 3,
        "daily_message_limit": 50,
        "resets_at": (midnight + timedelta(days=1)).isoformat().replace("+00:00", "Z"),
    }


def test_an_unlimited_plan_has_no_daily_limit_in_the_usage(staff_client, user):
    turn(ConversationFactory(owner=user))
    staff_client.patch(staff_settings_url(user.pk, "/subscription"), {"plan": "pro"})  # 0: unlimited

    usage = staff_client.get(staff_settings_url(user.pk, "/subscription")).json()["usage_today"]

    assert (usage["messages_sent"], usage["daily_message_limit"]) == (1, None)


def test_the_usage_is_read_only(user_client, user):
    r = user_client.put(SUBSCRIPTION, {"plan": "free", "auto_renew": True, "usage_today": {"messages_sent": 0}})
    assert r.status_code == 200
    assert r.json()["usage_today"]["messages_sent"] == 0
    assert settings_of(user).auto_renew is True


def test_users_cannot_give_themselves_the_paid_plan_by_default(user_client, user):
    r = user_client.put(SUBSCRIPTION, {"plan": "plus", "auto_renew": True})

    assert r.status_code == 403
    assert r.json()["code"] == "plan_not_selectable"
    assert settings_of(user).plan.slug == "free"


def test_switch_to_a_selectable_plan(user_client, user, plus_selectable):
    r = user_client.put(SUBSCRIPTION, {"plan": "plus", "auto_renew": True})

    assert r.status_code == 200, r.content
    assert r.json()["plan"] == "plus"
    assert r.json()["plan_details"]["daily_message_limit"] == 500
    row = settings_of(user)
    assert (row.plan.slug, row.auto_renew) == ("plus", True)


def test_put_subscription_requires_all_fields(user_client):
    r = user_client.put(SUBSCRIPTION, {"plan": "plus"})
    assert r.status_code == 400
    assert "auto_renew" in r.json()


@pytest.mark.parametrize("plan, status", [("pro", 403), ("platinum", 400)])
def test_user_cannot_switch_to_a_non_selectable_or_unknown_plan(user_client, user, plan, status):
    r = user_client.put(SUBSCRIPTION, {"plan": plan, "auto_renew": False})

    assert r.status_code == status  # not yours to choose, or no such plan
    assert ("code" if status == 403 else "plan") in r.json()
    assert settings_of(user).plan.slug == "free"


def test_a_plan_made_unselectable_cannot_be_chosen(user_client, user):
    Plan.objects.filter(slug="plus").update(selectable_by_user=False)

    r = user_client.patch(SUBSCRIPTION, {"plan": "plus"})

    assert r.status_code == 403
    assert r.json()["code"] == "plan_not_selectable"


def test_plans_are_listed_publicly(api_client):
    r = api_client.get("/api/v1/plans")

    assert r.status_code == 200
    assert [(p["slug"], p["selectable_by_user"]) for p in r.json()] == [
        ("free", True),
        ("plus", False),
        ("pro", False),
    ]


# --- theme and notification -----------------------------------------------------------------


def test_theme(user_client, user):
    assert user_client.get(THEME).json() == {"theme": "system"}

    r = user_client.put(THEME, {"theme": "dark"})

    assert r.status_code == 200
    assert r.json() == {"theme": "dark"}
    assert settings_of(user).theme == "dark"


@pytest.mark.parametrize("payload", [{"theme": "neon"}, {}, {"theme": ""}, {"theme": None}])
def test_invalid_theme_is_400(user_client, user, payload):
    r = user_client.put(THEME, payload, format="json")

    assert r.status_code == 400
    assert "theme" in r.json()
    assert settings_of(user).theme == "system"


def test_notification(user_client, user):
    assert user_client.get(NOTIFICATION).json() == {
        "email_notifications": True,
        "push_notifications": False,
        "product_updates": False,
    }
    new = {"email_notifications": False, "push_notifications": True, "product_updates": True}

    r = user_client.put(NOTIFICATION, new)

    assert r.status_code == 200
    assert r.json() == new
    row = settings_of(user)
    assert (row.email_notifications, row.push_notifications, row.product_updates) == (False, True, True)


def test_notification_put_requires_all_and_patch_some(user_client, user):
    r = user_client.put(NOTIFICATION, {"push_notifications": True})
    assert r.status_code == 400
    assert "email_notifications" in r.json()

    r = user_client.patch(NOTIFICATION, {"push_notifications": True})
    assert r.status_code == 200
    assert settings_of(user).push_notifications is True


def test_settings_are_per_user(user_client, outsider_client, outsider):
    user_client.patch(SETTINGS, {"theme": "dark"})
    assert outsider_client.get(THEME).json() == {"theme": "system"}
    assert settings_of(outsider).theme == "system"


# --- staff ----------------------------------------------------------------------------------


def test_staff_reads_and_writes_another_users_settings(staff_client, user):
    r = staff_client.get(staff_settings_url(user.pk))
    assert r.status_code == 200
    assert r.json()["plan"] == "free"

    r = staff_client.put(staff_settings_url(user.pk), {**FULL_SETTINGS, "plan": "pro"})

    assert r.status_code == 200, r.content
    assert settings_of(user).plan.slug == "pro"


def test_staff_may_grant_pro_with_a_renewal_date(staff_client, user):
    r = staff_client.put(
        staff_settings_url(user.pk, "/subscription"),
        {"plan": "pro", "auto_renew": True, "plan_renews_at": "2030-01-31T00:00:00Z"},
    )

    assert r.status_code == 200, r.content
    assert r.json()["plan"] == "pro"
    assert r.json()["plan_renews_at"].startswith("2030-01-31T00:00:00")
    row = settings_of(user)
    assert row.plan.slug == "pro"
    assert row.plan_renews_at.year == 2030


def test_staff_subscription_validation(staff_client, user):
    r = staff_client.put(staff_settings_url(user.pk, "/subscription"), {"plan": "platinum", "auto_renew": True})
    assert r.status_code == 400
    assert "plan" in r.json()

    r = staff_client.patch(staff_settings_url(user.pk, "/subscription"), {"plan_renews_at": "tomorrow"})
    assert r.status_code == 400
    assert "plan_renews_at" in r.json()


@pytest.mark.parametrize("part", ["", "/subscription"])
def test_staff_endpoints_unknown_user_is_404(staff_client, part):
    assert staff_client.get(staff_settings_url(999999, part)).status_code == 404
    assert staff_client.patch(staff_settings_url(999999, part), {"auto_renew": True}).status_code == 404


@pytest.mark.parametrize("part", ["", "/subscription"])
def test_staff_endpoints_are_forbidden_to_non_staff(user_client, outsider, part):
    assert user_client.get(staff_settings_url(outsider.pk, part)).status_code == 403
    r = user_client.put(staff_settings_url(outsider.pk, part), {**FULL_SETTINGS, "plan": "pro"})
    assert r.status_code == 403
    assert settings_of(outsider).plan.slug == "free"


def test_staff_endpoint_malformed_user_id_is_404(staff_client):
    assert staff_client.get("/api/v1/users/abc/settings").status_code == 404


def test_a_staff_granted_plan_survives_the_users_own_put(staff_client, user_client, user):
    staff_client.patch(staff_settings_url(user.pk, "/subscription"), {"plan": "pro"})
    current = user_client.get(SETTINGS).json()

    # The client sends back what it read, with one change: the unselectable plan is not a switch.
    r = user_client.put(SETTINGS, {**current, "theme": "dark"})

    assert r.status_code == 200, r.content
    assert settings_of(user).plan.slug == "pro"
    r = user_client.put(SUBSCRIPTION, {"plan": "pro", "auto_renew": False})
    assert r.status_code == 200, r.content


def test_users_created_outside_the_service_get_settings_on_first_use(staff_client, auth_client):
    bare = User.objects.create_user(email="cli-made@example.com", password="Cli-Made-Pass-1")
    assert not UserSettings.objects.filter(user=bare).exists()

    assert staff_client.get(staff_settings_url(bare.pk)).json()["plan"] == "free"
    assert auth_client(bare).patch(THEME, {"theme": "dark"}).status_code == 200
    assert settings_of(bare).theme == "dark"
