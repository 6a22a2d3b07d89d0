"""Issue 18, hole 1: staff who are not superusers cannot take over a superuser, on any admin path.

The deputy is staff with explicit permissions on users and the rows that sign a user in
(``change_user``, ``change_socialaccount``, ``add_emailaddress``...), never a superuser. Against
root, a superuser, every path is refused: Django's password form and change form, the delete
page, each bulk action, the import, and the side doors (the settings inline, devices, API keys,
allauth's social accounts and email addresses, added or moved onto root). Against an ordinary
member the same deputy still does all of it. The rule is console/guard.py.
"""

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts import services
from accounts.models import ApiKey, Device, User
from console.guard import SuperuserGuard, protected_rows
from tests.accounts.admin_forms import form_data

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
NEW_PASSWORD = "Taken-Over-99"
ROOT_PASSWORD = "Root-pass-1234"

# app label -> codenames the deputy is given, explicitly (no superuser shortcut).
DEPUTY_PERMISSIONS = {
    "accounts": [
        "view_user",
        "add_user",
        "change_user",
        "delete_user",
        "view_usersettings",
        "change_usersettings",
        "view_device",
        "change_device",
        "view_apikey",
        "change_apikey",
    ],
    "socialaccount": [
        "view_socialaccount",
        "add_socialaccount",
        "change_socialaccount",
        "delete_socialaccount",
        "view_socialtoken",
        "change_socialtoken",
    ],
    "account": ["view_emailaddress", "add_emailaddress", "change_emailaddress", "delete_emailaddress"],
}


def grant(user, permissions: dict[str, list[str]]) -> User:
    for app_label, codenames in permissions.items():
        found = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        assert found.count() == len(codenames), (app_label, codenames)
        user.user_permissions.add(*found)
    return User.objects.get(pk=user.pk)  # a fresh instance: no cached permissions


@pytest.fixture
def root(db):
    user = User.objects.create_superuser(email="root@example.com", password=ROOT_PASSWORD)
    services.user_settings_get(user=user)
    return user


@pytest.fixture
def deputy_user(db):
    user = services.user_create(email="deputy@example.com", password="Deputy-pass-42")
    User.objects.filter(pk=user.pk).update(is_staff=True)
    return grant(User.objects.get(pk=user.pk), DEPUTY_PERMISSIONS)


@pytest.fixture
def deputy(deputy_user) -> Client:
    client = Client()
    client.force_login(deputy_user)
    return client


@pytest.fixture
def root_web(root) -> Client:
    client = Client()
    client.force_login(root)
    return client


@pytest.fixture
def member(db):
    user = services.user_create(email="member@example.com", password="Member-pass-42")
    services.session_start(user=user, device_id="phone")
    return user


def change_page(user) -> str:
    return f"{USERS}{user.pk}/change/"


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def password_data(password: str) -> dict:
    return {"usable_password": "true", "password1": password, "password2": password}


# --- Django's own forms -------------------------------------------------------------------------


def test_the_password_form_of_a_superuser_is_refused(deputy, root):
    url = f"{USERS}{root.pk}/password/"

    assert deputy.get(url).status_code == 403
    assert deputy.post(url, password_data(NEW_PASSWORD)).status_code == 403

    root.refresh_from_db()
    assert root.check_password(ROOT_PASSWORD) and not root.check_password(NEW_PASSWORD)


def test_the_password_form_of_an_ordinary_user_still_works(deputy, member):
    response = deputy.post(f"{USERS}{member.pk}/password/", password_data(NEW_PASSWORD))

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)


def test_a_superusers_change_form_is_read_only_and_a_post_is_refused(deputy, root_web, root):
    # Everything root's own page would submit (settings inline included), with another email.
    data = form_data(root_web.get(change_page(root)).content.decode(), "user_form", email="mine@example.com")
    assert "settings-0-plan" in data and data["email"] == "mine@example.com"

    shown = deputy.get(change_page(root))
    response = deputy.post(change_page(root), data)

    assert shown.status_code == 200
    html = shown.content.decode()
    assert 'name="email"' not in html and 'name="settings-0-plan"' not in html
    assert f"{USERS}{root.pk}/password/" not in html
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.email == "root@example.com"


def test_an_ordinary_users_change_form_still_works(deputy, member):
    data = form_data(deputy.get(change_page(member)).content.decode(), "user_form", email="moved@example.com")

    response = deputy.post(change_page(member), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    member.refresh_from_db()
    assert member.email == "moved@example.com"


def test_the_delete_page_of_a_superuser_is_refused(deputy, root):
    url = f"{USERS}{root.pk}/delete/"

    assert deputy.get(url).status_code == 403
    assert deputy.post(url, {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=root.pk).exists()


# --- bulk actions -------------------------------------------------------------------------------


def bulk(client, changelist: str, action: str, *rows, **extra):
    return client.post(changelist, {"action": action, "_selected_action": [row.pk for row in rows], **extra})


def test_deactivating_leaves_superusers_out(deputy, root, member):
    response = bulk(deputy, USERS, "deactivate_and_sign_out", root, member)

    root.refresh_from_db()
    member.refresh_from_db()
    assert root.is_active and not member.is_active
    assert any("Only a superuser" in text for text in texts(response))


def test_reactivating_leaves_superusers_out(deputy, root, member):
    User.objects.filter(pk__in=[root.pk, member.pk]).update(is_active=False)

    response = bulk(deputy, USERS, "reactivate", root, member)

    root.refresh_from_db()
    member.refresh_from_db()
    assert not root.is_active and member.is_active
    assert any("Only a superuser" in text for text in texts(response))


def test_unlocking_leaves_superusers_out(deputy, root, member, monkeypatch):
    from accounts import lockout

    unlocked = []
    monkeypatch.setattr(lockout, "unlock", lambda *, email: unlocked.append(email))

    bulk(deputy, USERS, "unlock_sign_in", root, member)

    assert unlocked == ["member@example.com"]


def test_deleting_selected_leaves_superusers_out(deputy, root, member):
    confirmation = bulk(deputy, USERS, "delete_selected", root, member)
    bulk(deputy, USERS, "delete_selected", root, member, post="yes")

    assert "member@example.com" in confirmation.content.decode()
    assert User.objects.filter(pk=root.pk).exists()
    assert not User.objects.filter(pk=member.pk).exists()


def test_revoking_keys_and_devices_leaves_a_superusers_out(deputy, root, member):
    root_key, _ = services.api_key_create(user=root, name="root's")
    member_key, _ = services.api_key_create(user=member, name="member's")
    root_device = services.session_start(user=root, device_id="root-laptop").device
    member_device = Device.objects.get(user=member)

    bulk(deputy, "/admin/accounts/apikey/", "revoke", root_key, member_key)
    bulk(deputy, "/admin/accounts/device/", "revoke", root_device, member_device)

    assert ApiKey.objects.get(pk=root_key.pk).revoked_at is None
    assert ApiKey.objects.get(pk=member_key.pk).revoked_at is not None
    assert Device.objects.get(pk=root_device.pk).revoked_at is None
    assert Device.objects.get(pk=member_device.pk).revoked_at is not None


# --- the import ---------------------------------------------------------------------------------


def test_the_user_import_refuses_a_superusers_row(deputy, root, member):
    content = (
        "email,display_name,is_active,is_staff,plan\nroot@example.com,Taken,0,1,pro\nmember@example.com,Kept,1,0,\n"
    )
    upload = SimpleUploadedFile("users.csv", content.encode(), content_type="text/csv")

    preview = deputy.post(f"{USERS}import/", {"format": "0", "resource": "0", "import_file": upload})

    assert preview.status_code == 200
    result = preview.context["result"]
    assert [row.number for row in result.invalid_rows] == [1]
    assert "Only a superuser" in str(result.invalid_rows[0].error_dict)
    assert preview.context.get("confirm_form") is None  # nothing to confirm with an invalid row
    root.refresh_from_db()
    assert (root.is_active, root.display_name) == (True, "")


# --- the side doors: rows that sign a user in ---------------------------------------------------


def test_a_social_account_cannot_be_added_to_a_superuser(deputy, root, member):
    url = "/admin/socialaccount/socialaccount/add/"
    data = form_data(deputy.get(url).content.decode(), "socialaccount_form", user=str(root.pk))

    response = deputy.post(url, data)

    assert response.status_code == 200  # the form again, with its error
    assert not SocialAccount.objects.filter(user=root).exists()
    # The same form links an ordinary user.
    deputy.post(url, {**data, "user": str(member.pk)})
    assert SocialAccount.objects.filter(user=member).exists()


def test_ones_own_social_account_cannot_be_moved_onto_a_superuser(deputy, deputy_user, root, member):
    mine = SocialAccount.objects.create(user=deputy_user, provider="github", uid="4242")
    url = f"/admin/socialaccount/socialaccount/{mine.pk}/change/"
    data = form_data(deputy.get(url).content.decode(), "socialaccount_form", user=str(root.pk))

    response = deputy.post(url, data)

    assert response.status_code == 200
    assert SocialAccount.objects.get(pk=mine.pk).user_id == deputy_user.pk
    # Moving it between ordinary users is still staff's to do.
    assert deputy.post(url, {**data, "user": str(member.pk)}).status_code == 302
    assert SocialAccount.objects.get(pk=mine.pk).user_id == member.pk


def test_a_superusers_social_account_is_read_only(deputy, deputy_user, root_web, root):
    theirs = SocialAccount.objects.create(user=root, provider="github", uid="1")
    url = f"/admin/socialaccount/socialaccount/{theirs.pk}/change/"
    data = form_data(root_web.get(url).content.decode(), "socialaccount_form", user=str(deputy_user.pk))

    assert deputy.post(url, data).status_code == 403
    assert deputy.post(f"/admin/socialaccount/socialaccount/{theirs.pk}/delete/", {"post": "yes"}).status_code == 403
    assert SocialAccount.objects.get(pk=theirs.pk).user_id == root.pk


def test_a_verified_address_cannot_be_added_to_a_superuser(deputy, root, member):
    url = "/admin/account/emailaddress/add/"
    data = form_data(
        deputy.get(url).content.decode(),
        "emailaddress_form",
        user=str(root.pk),
        email="deputy-mailbox@example.com",
        verified="on",
        primary="on",
    )

    response = deputy.post(url, data)

    assert response.status_code == 200
    assert not EmailAddress.objects.filter(user=root).exists()
    deputy.post(url, {**data, "user": str(member.pk)})
    assert EmailAddress.objects.filter(user=member, email="deputy-mailbox@example.com").exists()


def test_ones_own_address_cannot_be_moved_onto_a_superuser(deputy, deputy_user, root):
    mine = EmailAddress.objects.create(user=deputy_user, email="deputy@example.com", verified=True, primary=True)
    url = f"/admin/account/emailaddress/{mine.pk}/change/"
    data = form_data(deputy.get(url).content.decode(), "emailaddress_form", user=str(root.pk))

    response = deputy.post(url, data)

    assert response.status_code == 200
    assert EmailAddress.objects.get(pk=mine.pk).user_id == deputy_user.pk


def test_a_superusers_address_cannot_be_changed_nor_verified(deputy, root_web, root):
    theirs = EmailAddress.objects.create(user=root, email="root@example.com", verified=False, primary=True)
    url = f"/admin/account/emailaddress/{theirs.pk}/change/"
    data = form_data(root_web.get(url).content.decode(), "emailaddress_form", email="deputy-mailbox@example.com")

    assert deputy.post(url, data).status_code == 403
    bulk(deputy, "/admin/account/emailaddress/", "make_verified", theirs)

    theirs.refresh_from_db()
    assert (theirs.email, theirs.verified) == ("root@example.com", False)


def test_a_device_cannot_be_moved_onto_a_superuser(deputy, root, member):
    device = Device.objects.get(user=member)
    url = f"/admin/accounts/device/{device.pk}/change/"
    data = form_data(deputy.get(url).content.decode(), "device_form", user=str(root.pk))

    deputy.post(url, data)

    assert Device.objects.get(pk=device.pk).user_id == member.pk


# --- the rule itself ----------------------------------------------------------------------------


def test_every_registered_admin_has_the_guard():
    assert all(isinstance(model_admin, SuperuserGuard) for model_admin in admin.site._registry.values())
    belongs = {model._meta.label_lower for model in admin.site._registry if protected_rows(model, None) is not None}
    assert {
        "accounts.user",
        "accounts.device",
        "accounts.apikey",
        "socialaccount.socialaccount",
        "socialaccount.socialtoken",
        "account.emailaddress",
        "conversations.conversation",
        "conversations.message",
        "collector.item",
        "todos.todo",
    } <= belongs
    # Rows that only name a user (a sample's author) are anyone's to edit.
    assert "sharing.sample" not in belongs


def test_a_write_that_slips_past_the_forms_is_refused(deputy_user, root, rf):
    from django.core.exceptions import PermissionDenied

    request = rf.post("/")
    request.user = deputy_user
    device_admin = admin.site.get_model_admin(Device)
    device = services.session_start(user=root, device_id="root-laptop").device

    with pytest.raises(PermissionDenied):
        device_admin.save_model(request, device, form=None, change=True)
    with pytest.raises(PermissionDenied):
        device_admin.delete_queryset(request, Device.objects.filter(pk=device.pk))


# --- other staff: only a superuser manages the accounts that hold admin powers -------------------


@pytest.fixture
def colleague(db):
    # Staff with more than the deputy: taking their account over would be an escalation.
    user = services.user_create(email="colleague@example.com", password="Colleague-pass-42")
    User.objects.filter(pk=user.pk).update(is_staff=True)
    return grant(User.objects.get(pk=user.pk), {**DEPUTY_PERMISSIONS, "conversations": ["change_llmmodel"]})


def test_another_staff_members_password_and_email_are_refused(deputy, root_web, colleague):
    url = f"{USERS}{colleague.pk}/password/"
    assert deputy.post(url, password_data(NEW_PASSWORD)).status_code == 403
    colleague.refresh_from_db()
    assert not colleague.check_password(NEW_PASSWORD)

    data = form_data(root_web.get(change_page(colleague)).content.decode(), "user_form", email="mine@example.com")
    assert deputy.post(change_page(colleague), data).status_code == 403
    colleague.refresh_from_db()
    assert colleague.email == "colleague@example.com"


def test_a_staff_member_still_edits_their_own_account(deputy, deputy_user, root_web):
    data = form_data(root_web.get(change_page(deputy_user)).content.decode(), "user_form", display_name="Deputy D.")
    response = deputy.post(change_page(deputy_user), data)
    assert response.status_code == 302, response.content[:500]
    deputy_user.refresh_from_db()
    assert deputy_user.display_name == "Deputy D."
    assert not deputy_user.is_superuser
