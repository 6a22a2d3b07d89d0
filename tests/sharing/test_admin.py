import pytest
from django.test import Client
from django.urls import reverse

from sharing import services
from sharing.models import Share
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
    assert "Revoked 1 share." in response.content.decode()
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
    assert "Published 1 sample." in response.content.decode()
    sample.refresh_from_db()
    assert sample.published

    response = admin_browser.post(changelist, {"action": "unpublish", "_selected_action": [sample.pk]}, follow=True)
    assert "Unpublished 1 sample." in response.content.decode()
    sample.refresh_from_db()
    assert not sample.published
