"""The user admin's "Delete account and all data": a button on the user's page that asks first,
deletes through ``accounts.services.user_delete`` (the same as ``DELETE /api/v1/user``), is written
to the audit trail and is refused on one's own account."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts import services
from accounts.models import User
from collector import services as collector_services
from conversations.models import Conversation
from tests.conversations.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


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
    MessageFactory(conversation=ConversationFactory(owner=user))
    return user


def url(user) -> str:
    return f"/admin/accounts/user/{user.pk}/delete-account/"


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_users_page_offers_it(admin_web, member):
    assert url(member) in admin_web.get(f"/admin/accounts/user/{member.pk}/change/").content.decode()


def test_a_get_only_asks(admin_web, member):
    response = admin_web.get(url(member))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'method="post"' in html and "cannot be undone" in html
    assert User.objects.filter(pk=member.pk).exists()


def test_a_post_deletes_everything_and_is_audited(
    admin_web, root, member, _media_root, django_capture_on_commit_callbacks
):
    item = collector_services.item_create(user=member, kind="file", file=SimpleUploadedFile("a.txt", b"abc"))
    stored = _media_root / item.stored_file.blob.name
    member_pk = member.pk

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post(url(member))

    assert response.status_code == 302 and response["Location"] == "/admin/accounts/user/"
    assert not User.objects.filter(pk=member_pk).exists()
    assert not Conversation.objects.filter(owner_id=member_pk).exists()
    assert not stored.exists()
    assert any("Deleted member@example.com: 1 conversation(s)" in text for text in texts(response))
    staff_entries = [
        e for e in LogEntry.objects.filter(object_pk=str(member_pk)) if (e.additional_data or {}).get("staff_action")
    ]
    assert [(e.actor, e.additional_data["staff_action"]) for e in staff_entries] == [
        (root, "delete account and all data")
    ]


def test_deleting_oneself_is_refused_with_a_clear_message(admin_web, root):
    response = admin_web.post(url(root))
    assert response.status_code == 302
    assert any("your own account" in text for text in texts(response))
    assert User.objects.filter(pk=root.pk).exists()


def test_staff_without_the_delete_permission_cannot(member):
    editor = User.objects.create_user(email="editor@example.com", password="Editor-pass-42", is_staff=True)
    editor.user_permissions.add(
        Permission.objects.get(codename="change_user"), Permission.objects.get(codename="view_user")
    )
    client = Client()
    client.force_login(editor)
    assert client.post(url(member)).status_code in (302, 403)
    assert User.objects.filter(pk=member.pk).exists()
