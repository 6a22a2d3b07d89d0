"""A user's admin page is where an operator acts: plan and today's quota, last activity, links to
their conversations, feedback, devices and keys; deactivate, reactivate, grant a plan, revoke
all sessions, reset today's quota. Each action asks first (a GET only shows a confirmation), is
done on POST, is written to the audit trail with the staff member as actor, and is refused on
one's own account with a clear message."""

import pytest
from auditlog.models import LogEntry
from django.contrib.messages import get_messages
from django.test import Client
from django.utils.html import escape

from accounts import services
from accounts.models import ApiKey, Device, User, UserSettings
from console.user_actions import SELF_REFUSAL, USER_ACTIONS
from conversations.quota import daily_usage
from tests.conversations.factories import ConversationFactory, turn

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    return User.objects.create_superuser(email="root@example.com", password="Admin-pass-1")


@pytest.fixture
def admin_web(root) -> Client:
    client = Client()
    client.force_login(root)
    return client


@pytest.fixture
def member(db):
    user = services.user_create(email="member@example.com", password="Member-pass-42")
    services.session_start(user=user, device_id="phone")
    services.api_key_create(user=user, name="scripts")
    turn(ConversationFactory(owner=user))
    return user


def page(user) -> str:
    return f"/admin/accounts/user/{user.pk}/change/"


def action(user, name) -> str:
    return f"/admin/accounts/user/{user.pk}/{name}/"


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def audit_of(user) -> list[LogEntry]:
    return list(LogEntry.objects.filter(object_pk=str(user.pk)).order_by("timestamp"))


def test_the_page_shows_plan_quota_activity_and_links(admin_web, member):
    html = admin_web.get(page(member)).content.decode()

    assert "At a glance" in html
    assert "Free: 1 of 50 messages sent today" in html
    assert "(seen on a device)" in html or "(signed in)" in html
    assert f"owner__id__exact={member.pk}" in html and "1 conversations" in html
    assert f"/admin/conversations/feedback/?user__id__exact={member.pk}" in html
    for name in ("deactivate", "reactivate", "grant-plan", "revoke-sessions", "reset-quota"):
        assert action(member, name) in html


@pytest.mark.parametrize("name", ["deactivate", "reactivate", "grant-plan", "revoke-sessions", "reset-quota"])
def test_a_get_only_asks(admin_web, member, name):
    response = admin_web.get(action(member, name))

    assert response.status_code == 200
    assert 'method="post"' in response.content.decode()
    member.refresh_from_db()
    assert member.is_active
    assert Device.objects.active().filter(user=member).count() == 1
    assert audit_of(member) == [] or all("staff_action" not in (e.additional_data or {}) for e in audit_of(member))


@pytest.mark.parametrize("user_action", USER_ACTIONS, ids=lambda user_action: user_action.name)
def test_every_action_of_the_table_is_a_button_that_asks_first_and_spares_oneself(admin_web, root, member, user_action):
    assert action(member, user_action.url_path) in admin_web.get(page(member)).content.decode()

    confirmation = admin_web.get(action(member, user_action.url_path))

    html = confirmation.content.decode()
    assert confirmation.status_code == 200 and 'method="post"' in html
    assert escape(str(user_action.title)) in html and escape(str(user_action.button)) in html
    assert escape(str(user_action.text) % {"user": member.email}) in html
    assert ('name="plan"' in html) == user_action.offers_plans

    refused = admin_web.post(action(root, user_action.url_path), {"plan": "pro"})

    assert refused.status_code == 302 and refused["Location"] == page(root)
    assert texts(refused) == [SELF_REFUSAL.format(what=user_action.what)]
    assert User.objects.filter(pk=root.pk, is_active=True).exists()
    assert not any("staff_action" in (entry.additional_data or {}) for entry in LogEntry.objects.all())


def test_deactivate_signs_out_everywhere_and_is_audited(admin_web, root, member):
    response = admin_web.post(action(member, "deactivate"))

    assert response.status_code == 302 and response["Location"] == page(member)
    member.refresh_from_db()
    assert not member.is_active
    assert not Device.objects.active().filter(user=member).exists()
    assert not ApiKey.objects.filter(user=member, revoked_at__isnull=True).exists()
    entry = audit_of(member)[-1]
    assert entry.actor == root
    assert entry.additional_data == {"staff_action": "deactivate and sign out everywhere"}
    assert entry.changes_dict == {"is_active": [True, False]} or entry.changes == {"is_active": [True, False]}


def test_reactivate(admin_web, root, member):
    admin_web.post(action(member, "deactivate"))
    admin_web.post(action(member, "reactivate"))

    member.refresh_from_db()
    assert member.is_active
    assert [e.additional_data["staff_action"] for e in audit_of(member) if e.additional_data] == [
        "deactivate and sign out everywhere",
        "reactivate",
    ]


def test_grant_plan(admin_web, root, member):
    response = admin_web.post(action(member, "grant-plan"), {"plan": "pro"})

    assert response.status_code == 302
    assert UserSettings.objects.get(user=member).plan.slug == "pro"
    assert any(e.actor == root for e in audit_of(member))
    assert "now on the pro plan" in " ".join(texts(response))


def test_grant_an_unknown_plan_says_so(admin_web, member):
    response = admin_web.post(action(member, "grant-plan"), {"plan": "gold"})

    assert response.status_code == 302
    assert "No plan 'gold'" in " ".join(texts(response))
    assert UserSettings.objects.get(user=member).plan.slug == "free"


def test_revoke_sessions_keeps_the_account_and_its_keys(admin_web, member):
    admin_web.post(action(member, "revoke-sessions"))

    member.refresh_from_db()
    assert member.is_active
    assert not Device.objects.active().filter(user=member).exists()
    assert ApiKey.objects.filter(user=member, revoked_at__isnull=True).count() == 1


def test_reset_quota_for_today(admin_web, member):
    settings_row = UserSettings.objects.get(user=member)
    assert daily_usage(settings_row=settings_row).messages_sent == 1

    admin_web.post(action(member, "reset-quota"))

    settings_row.refresh_from_db()
    assert daily_usage(settings_row=settings_row).messages_sent == 0


@pytest.mark.parametrize("name", ["deactivate", "grant-plan", "revoke-sessions", "reset-quota"])
def test_acting_on_oneself_is_refused_with_a_clear_message(admin_web, root, name):
    services.session_start(user=root, device_id="laptop")

    response = admin_web.post(action(root, name), {"plan": "pro"})

    assert response.status_code == 302
    assert any("your own account" in text for text in texts(response))
    root.refresh_from_db()
    assert root.is_active
    assert Device.objects.active().filter(user=root).count() == 1
    assert services.user_settings_get(user=root).plan.slug == "free"


def test_bulk_deactivate_with_oneself_selected_says_so_and_counts_the_others(admin_web, root, member):
    response = admin_web.post(
        "/admin/accounts/user/",
        {"action": "deactivate_and_sign_out", "_selected_action": [root.pk, member.pk]},
        follow=True,
    )

    shown = " ".join(texts(response)) + response.content.decode()
    assert "your own account" in shown
    assert "Deactivated 1 user," in shown
    root.refresh_from_db()
    member.refresh_from_db()
    assert root.is_active and not member.is_active


def test_staff_without_change_permission_cannot_act(member):
    viewer = User.objects.create_user(email="viewer@example.com", password="Viewer-pass-42", is_staff=True)
    client = Client()
    client.force_login(viewer)

    assert client.post(action(member, "deactivate")).status_code in (302, 403)
    member.refresh_from_db()
    assert member.is_active


@pytest.fixture
def deputy(db):
    """Staff who may change users, but no superuser."""
    from django.contrib.auth.models import Permission

    staff = User.objects.create_user(email="deputy@example.com", password="Deputy-pass-42", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client = Client()
    client.force_login(User.objects.get(pk=staff.pk))
    return client


@pytest.mark.parametrize("name", ["deactivate", "revoke-sessions", "reset-quota", "grant-plan", "delete-account"])
def test_staff_who_are_not_superusers_cannot_act_on_a_superuser(deputy, root, name):
    services.session_start(user=root, device_id="laptop")

    # The superuser's page offers no action to them, and the action itself is refused (403) by
    # the admin's object permission (console/guard.py) before it runs.
    assert action(root, name) not in deputy.get(page(root)).content.decode()
    response = deputy.post(action(root, name), {"plan": "pro"})

    assert response.status_code == 403
    root.refresh_from_db()
    assert root.is_active and Device.objects.active().filter(user=root).count() == 1
    assert root.settings.plan.slug != "pro"


def test_nor_through_the_bulk_action_nor_by_granting_themselves_superuser(deputy, root, member):
    response = deputy.post(
        "/admin/accounts/user/", {"action": "deactivate_and_sign_out", "_selected_action": [root.pk, member.pk]}
    )
    root.refresh_from_db()
    member.refresh_from_db()
    assert root.is_active and not member.is_active
    assert any("Only a superuser" in text for text in texts(response))

    page_html = deputy.get(f"/admin/accounts/user/{member.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page_html


def test_an_unknown_user_id_in_an_action_is_a_404(admin_web):
    assert admin_web.get("/admin/accounts/user/abc/deactivate/").status_code == 404
    assert admin_web.get("/admin/accounts/user/999999/deactivate/").status_code == 404


def test_revoking_keys_and_devices_and_unlocking_are_audited(admin_web, root, member):
    key = ApiKey.objects.get(user=member)
    device = Device.objects.get(user=member)

    admin_web.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    admin_web.post("/admin/accounts/device/", {"action": "revoke", "_selected_action": [device.pk]})
    admin_web.post("/admin/accounts/user/", {"action": "unlock_sign_in", "_selected_action": [member.pk]})

    actions = {
        (entry.content_type.model, entry.additional_data["staff_action"])
        for entry in LogEntry.objects.filter(actor=root)
        if entry.additional_data
    }
    assert ("apikey", "revoke API key") in actions
    assert ("user", "revoke device session(s) (1)") in actions
    assert ("user", "unlock sign-in (forget failed passwords)") in actions


def test_the_stock_delete_page_deletes_through_the_account_deletion(admin_web, root, member):
    from collector.models import Item

    response = admin_web.post(f"/admin/accounts/user/{member.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=member.pk).exists()
    assert not Item.objects.filter(owner_id=member.pk).exists()
    assert any(
        (entry.additional_data or {}).get("staff_action") == "delete account and all data"
        for entry in LogEntry.objects.filter(actor=root)
    )


def test_staff_can_run_a_users_data_export(admin_web, root, member):
    from portability.models import Export

    assert admin_web.get(action(member, "export-data")).status_code == 200

    response = admin_web.post(action(member, "export-data"))

    assert response.status_code == 302
    export = Export.objects.get(owner=member)
    assert f"/admin/portability/export/{export.pk}/change/" in " ".join(texts(response))
    assert any(
        (entry.additional_data or {}).get("staff_action") == "export the account's data"
        for entry in LogEntry.objects.filter(actor=root)
    )
