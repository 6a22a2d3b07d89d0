"""The collector admin renders, searches and creates through the services' validation."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from collector.models import Item, Tag
from tests.collector.factories import ItemFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_web(client):
    admin = User.objects.create_superuser(email="root@example.com", password="Admin-pass-1")
    client.force_login(admin)
    return client


@pytest.mark.parametrize("rows", [1, 30])
def test_item_changelist_renders_with_constant_queries(admin_web, user, rows, django_assert_max_num_queries):
    tag = TagFactory(owner=user, name="research")
    ItemFactory.create_batch(rows, owner=user, tags=[tag])
    response = admin_web.get("/admin/collector/item/", {"q": "alice@example.com"})
    assert response.status_code == 200
    assert response.content.count(b"research") >= rows
    # Session, user, counts, the page, tags prefetch and the filter sidebars; never one per row.
    with django_assert_max_num_queries(12):
        admin_web.get("/admin/collector/item/")


def test_tag_changelist_shows_counts(admin_web, user):
    tag = TagFactory(owner=user, name="papers")
    ItemFactory.create_batch(3, owner=user, tags=[tag])
    response = admin_web.get("/admin/collector/tag/")
    assert response.status_code == 200
    assert b"papers" in response.content


def test_admin_add_link_goes_through_validation(admin_web, user):
    response = admin_web.post(
        "/admin/collector/item/add/",
        {"owner": user.pk, "kind": "link", "title": "", "url": "javascript:alert(1)", "content": "", "tag_names": ""},
    )
    assert response.status_code == 200  # the form comes back with an error
    assert not Item.objects.exists()

    response = admin_web.post(
        "/admin/collector/item/add/",
        {"owner": user.pk, "kind": "link", "title": "", "url": "https://example.com", "tag_names": "A, b"},
    )
    assert response.status_code == 302
    item = Item.objects.get()
    assert item.title == "https://example.com"
    assert set(item.tags.values_list("name", flat=True)) == {"A", "b"}
    assert set(Tag.objects.values_list("owner", flat=True)) == {user.pk}


def test_admin_add_file_rejects_spoofed_type(admin_web, user):
    response = admin_web.post(
        "/admin/collector/item/add/",
        {"owner": user.pk, "kind": "file", "file": SimpleUploadedFile("x.png", b"<script></script>")},
    )
    assert response.status_code == 200
    assert b"not image/png" in response.content
    assert not Item.objects.exists()


def test_admin_change_and_delete(admin_web, user, django_capture_on_commit_callbacks):
    item = ItemFactory(owner=user, title="Before")
    response = admin_web.post(f"/admin/collector/item/{item.pk}/change/", {"title": " ", "url": "", "content": ""})
    assert response.status_code == 200
    assert b"cannot be blank" in response.content
    response = admin_web.post(
        f"/admin/collector/item/{item.pk}/change/",
        {"title": "After", "url": "", "content": "text", "tag_names": "kept"},
    )
    assert response.status_code == 302, response.content
    item.refresh_from_db()
    assert item.title == "After"
    assert list(item.tags.values_list("name", flat=True)) == ["kept"]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post(f"/admin/collector/item/{item.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Item.objects.exists()
