import pytest
from django.test import Client
from django.urls import reverse

from conversations.models import Conversation
from sharing import services
from sharing.admin_actions import publish_as_sample
from sharing.models import Sample, Share
from tests.accounts.factories import UserFactory

from .factories import SampleFactory, conversation_with_messages

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser():
    browser = Client()
    browser.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return browser


@pytest.fixture
def share(user):
    return services.share_create(user=user, conversation=conversation_with_messages(owner=user))


def test_share_admin_pages_render(admin_browser, share):
    changelist = reverse("admin:sharing_share_changelist")
    assert admin_browser.get(changelist).status_code == 200
    assert admin_browser.get(changelist + "?revoked=yes&expired=no&q=alice").status_code == 200
    response = admin_browser.get(reverse("admin:sharing_share_change", args=[share.pk]))
    assert response.status_code == 200
    assert "Hi! How can I help?" in response.content.decode()


def test_share_admin_revoke_action(admin_browser, share):
    response = admin_browser.post(
        reverse("admin:sharing_share_changelist"),
        {"action": "revoke", "_selected_action": [share.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Revoked 1 share(s)." in response.content.decode()
    share.refresh_from_db()
    assert share.revoked_at is not None


def test_share_changelist_query_count_does_not_grow_per_row(admin_browser, share, user, django_assert_max_num_queries):
    Share.objects.bulk_create([Share(owner=user, title=f"s{i}", messages=[]) for i in range(50)])
    with django_assert_max_num_queries(12):
        assert admin_browser.get(reverse("admin:sharing_share_changelist")).status_code == 200


def test_sample_admin_pages_and_actions(admin_browser):
    sample = SampleFactory(published=False)
    changelist = reverse("admin:sharing_sample_changelist")
    assert admin_browser.get(changelist + "?published__exact=0").status_code == 200
    assert admin_browser.get(reverse("admin:sharing_sample_change", args=[sample.pk])).status_code == 200

    response = admin_browser.post(changelist, {"action": "publish", "_selected_action": [sample.pk]}, follow=True)
    assert "Published 1 sample(s)." in response.content.decode()
    sample.refresh_from_db()
    assert sample.published

    response = admin_browser.post(changelist, {"action": "unpublish", "_selected_action": [sample.pk]}, follow=True)
    assert "Unpublished 1 sample(s)." in response.content.decode()
    sample.refresh_from_db()
    assert not sample.published


def test_publish_as_sample_action_snapshots_each_conversation(rf, user, staff_user):
    full = conversation_with_messages(owner=user, pairs=[("Q", "A")])
    empty = conversation_with_messages(owner=user, pairs=[])
    request = rf.post("/admin/")
    request.user = staff_user
    sent: list[str] = []

    class FakeAdmin:
        def message_user(self, request, message, level=None):
            sent.append(message)

    publish_as_sample(FakeAdmin(), request, Conversation.objects.filter(pk__in=[full.pk, empty.pk]))

    sample = Sample.objects.get()
    assert (sample.source_conversation, sample.created_by, sample.published) == (full, staff_user, True)
    assert sent[0] == "Published 1 conversation(s) as samples."
    assert "Skipped" in sent[1]


def test_publish_as_sample_from_the_conversation_admin(admin_browser, user):
    conversation = conversation_with_messages(owner=user, pairs=[("Q", "A")])
    response = admin_browser.post(
        reverse("admin:conversations_conversation_changelist"),
        {"action": "publish_as_sample", "_selected_action": [str(conversation.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Published 1 conversation(s) as samples." in response.content.decode()
    assert Sample.objects.get().source_conversation == conversation
