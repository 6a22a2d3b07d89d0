"""The admin as a product: pages render, filters and search work, users are created with settings."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import Plan, User, UserSettings
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
DEVICES = "/admin/accounts/device/"
PLANS = "/admin/accounts/plan/"


@pytest.fixture
def admin_user(db):
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def page(client, url):
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return r.content.decode()


def test_admin_login_uses_email(client, admin_user, password):
    login_page = page(client, "/admin/login/")
    assert "Email address" in login_page

    r = client.post("/admin/login/?next=/admin/", {"username": "ROOT@example.com", "password": password})

    assert r.status_code == 302
    assert page(client, "/admin/")


def test_user_changelist_filters_and_search(admin_client, auth_client, user, outsider):
    auth_client(user, "phone")
    auth_client(user, "laptop")
    auth_client(outsider, "gh", login_type="github")
    Plan.objects.filter(slug="plus").update(selectable_by_user=True)
    services.user_settings_update(user=outsider, plan="plus")
    plus = Plan.objects.get(slug="plus")

    everyone = page(admin_client, USERS)
    on_plus = page(admin_client, f"{USERS}?settings__plan__id__exact={plus.pk}")
    via_github = page(admin_client, f"{USERS}?login_type=github")
    searched = page(admin_client, f"{USERS}?q=alice")
    active_staff = page(admin_client, f"{USERS}?is_active__exact=1&is_staff__exact=1")

    assert "alice@example.com" in everyone and "charlie@example.com" in everyone
    assert "charlie@example.com" in on_plus and "alice@example.com" not in on_plus
    assert "charlie@example.com" in via_github and "alice@example.com" not in via_github
    assert "alice@example.com" in searched and "charlie@example.com" not in searched
    assert "root@example.com" in active_staff and "alice@example.com" not in active_staff


def test_user_changelist_query_count_does_not_grow_with_rows(admin_client, auth_client, user):
    auth_client(user, "phone")
    with CaptureQueriesContext(connection) as few:
        page(admin_client, USERS)
    for n in range(20):
        auth_client(UserFactory(email=f"bulk{n}@example.com"), "phone")

    with CaptureQueriesContext(connection) as many:
        body = page(admin_client, USERS)

    assert "bulk19@example.com" in body
    assert len(many) == len(few)


def test_user_change_page_shows_settings_and_devices_inlines(admin_client, auth_client, user):
    auth_client(user, "alice-phone")

    body = page(admin_client, f"{USERS}{user.pk}/change/")

    assert "alice@example.com" in body
    assert "alice-phone" in body
    assert 'name="settings-0-plan"' in body


def test_admin_creates_users_with_settings(admin_client):
    assert 'name="email"' in page(admin_client, f"{USERS}add/")

    r = admin_client.post(
        f"{USERS}add/",
        {
            "email": "Made.By.Admin@Example.com",
            "usable_password": "true",
            "password1": "Admin-Made-Pass-1",
            "password2": "Admin-Made-Pass-1",
        },
    )

    assert r.status_code == 302, r.content.decode()[:2000]
    created = User.objects.get(email="made.by.admin@example.com")
    assert created.check_password("Admin-Made-Pass-1")
    assert UserSettings.objects.get(user=created).plan.slug == "free"


def test_device_changelist_change_page_and_status_filter(admin_client, auth_client, user):
    live = auth_client(user, "live-device")
    dead = auth_client(user, "dead-device")
    services.device_revoke(device=dead.device)

    everything = page(admin_client, DEVICES)
    active = page(admin_client, f"{DEVICES}?status=active")
    revoked = page(admin_client, f"{DEVICES}?status=revoked&login_type__exact=local")
    change = page(admin_client, f"{DEVICES}{live.device.pk}/change/")

    assert "live-device" in everything and "dead-device" in everything
    assert "live-device" in active and "dead-device" not in active
    assert "dead-device" in revoked and "live-device" not in revoked
    assert "live-device" in change
    assert admin_client.get(f"{DEVICES}add/").status_code == 403


def test_plan_pages(admin_client, user):
    free = Plan.objects.get(slug="free")

    body = page(admin_client, PLANS)
    change = page(admin_client, f"{PLANS}{free.pk}/change/")
    granted_only = page(admin_client, f"{PLANS}?selectable_by_user__exact=0")

    assert "Free" in body and "Plus" in body and "Pro" in body
    assert 'value="free"' in change
    # Paid plans are granted by staff: neither is selectable by users.
    assert "Pro" in granted_only and "Plus" in granted_only and ">Free<" not in granted_only


def test_admin_is_closed_to_non_staff(client, user):
    client.force_login(user)
    r = client.get(USERS)
    assert r.status_code == 302
    assert "/admin/login/" in r["Location"]


def test_user_without_settings_renders_in_the_admin(admin_client):
    bare = User.objects.create_user(email="bare@example.com", password="Bare-Pass-123")

    assert "bare@example.com" in page(admin_client, USERS)
    assert "bare@example.com" in page(admin_client, f"{USERS}{bare.pk}/change/")
