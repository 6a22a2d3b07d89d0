"""Service rules the API tests do not reach: the title rule and writing only what changed."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collector import services
from collector.models import Item, ItemKind
from tests.collector.factories import ItemFactory

pytestmark = pytest.mark.django_db


def _statements(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_item_titles_follow_the_one_title_rule(user):
    note = services.item_create(user=user, kind=ItemKind.NOTE, title=" Meeting\x07\n notes ")
    assert note.title == "Meeting notes"

    services.item_update(item=note, title="\x1b[0mAgenda\tQ3")
    assert Item.objects.get(pk=note.pk).title == "[0mAgenda Q3"

    with pytest.raises(ValidationError) as exc:
        services.item_update(item=note, title="\x00\x07")
    assert exc.value.message_dict == {"title": ["The title cannot be blank."]}
    # A person's too-long title is refused, as the API refuses it, rather than cut.
    with pytest.raises(ValidationError) as exc:
        services.item_create(user=user, kind=ItemKind.NOTE, title="x" * 201)
    assert "title" in exc.value.message_dict


def test_a_links_blank_title_is_its_url_cut_to_fit(user):
    long_url = "https://example.com/" + "a" * 300
    link = services.item_create(user=user, kind=ItemKind.LINK, title=" ", url=long_url)
    assert link.title == long_url[:200]


def test_a_links_blank_title_follows_the_url_given_with_it(user):
    link = services.item_create(user=user, kind=ItemKind.LINK, url="https://old.example.com")

    services.item_update(item=link, title="", url="https://new.example.com")

    link.refresh_from_db()
    assert (link.title, link.url) == ("https://new.example.com", "https://new.example.com")


def test_item_update_with_nothing_different_writes_nothing(user):
    item = ItemFactory(owner=user, title="Same", content="text")
    with CaptureQueriesContext(connection) as ctx:
        services.item_update(item=item, title=" Same ", content="text", url="")
    assert _statements(ctx) == []


def test_item_update_writes_only_the_changed_columns(user):
    item = ItemFactory(owner=user, title="Same", content="old")
    with CaptureQueriesContext(connection) as ctx:
        services.item_update(item=item, title="Same", content="new")
    # (The knowledge app re-indexes the new content in the same transaction: its own tables.)
    [update] = [sql for sql in _statements(ctx) if "knowledge_" not in sql]
    assert '"content"' in update and '"updated_at"' in update and '"title"' not in update
