"""Imports and exports are listed read-only in the admin."""

import pytest
from django.contrib import admin
from unfold.admin import ModelAdmin

from accounts.models import User
from portability.models import Export, Import

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_web(client):
    staff = User.objects.create_superuser(email="root@example.com", password="Admin-pass-1")
    client.force_login(staff)
    return client


@pytest.fixture
def rows(user):
    done = Import.objects.create(
        owner=user,
        status="done",
        source_format="chatgpt",
        file_name="conversations.json",
        conversations_total=3,
        conversations_imported=2,
        conversations_failed=1,
        messages_imported=9,
        errors=[{"kind": "conversation", "index": 1, "title": "Broken", "error": "no mapping"}],
    )
    export = Export.objects.create(owner=user, status="done", counts={"conversations": 2}, file_size=1234)
    return done, export


@pytest.mark.parametrize("model", [Import, Export])
def test_registered_with_unfold_and_read_only(model, rf, user):
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, ModelAdmin)
    request = rf.get("/")
    request.user = User(is_staff=True, is_superuser=True, is_active=True)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)


def test_changelists_and_change_pages_render(admin_web, rows, django_assert_max_num_queries):
    done, export = rows
    response = admin_web.get("/admin/portability/import/", {"q": "alice@example.com"})
    assert response.status_code == 200
    assert b"conversations.json" in response.content
    page = admin_web.get(f"/admin/portability/import/{done.pk}/change/")
    assert page.status_code == 200
    assert b"no mapping" in page.content
    assert b'name="_save"' not in page.content  # nothing to save: read-only
    assert admin_web.get("/admin/portability/export/").status_code == 200
    assert admin_web.get(f"/admin/portability/export/{export.pk}/change/").status_code == 200
    assert admin_web.get("/admin/portability/import/add/").status_code == 403
    Import.objects.bulk_create([Import(owner=done.owner, file_name=f"f{n}.json") for n in range(20)])
    with django_assert_max_num_queries(12):  # session, user, counts, the page: never one per row
        assert admin_web.get("/admin/portability/import/").status_code == 200
