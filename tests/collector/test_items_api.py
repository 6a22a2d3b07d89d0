"""Collector items: CRUD, validation, tags, keyword search, ordering, personas, query counts."""

import pytest

from collector.models import Item, Tag
from tests.collector.factories import ItemFactory, TagFactory

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/collector/items"


def item_url(item) -> str:
    return f"{ITEMS}/{item.pk}"


# --- create -----------------------------------------------------------------------------------


def test_create_note_with_tags(user_client, user):
    response = user_client.post(
        ITEMS, {"kind": "note", "title": "Meeting notes", "content": "Budget is 10k", "tags": ["Work", "q3"]}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "note"
    assert body["title"] == "Meeting notes"
    assert sorted(body["tags"]) == ["Work", "q3"]
    assert body["download_url"] is None
    item = Item.objects.get(pk=body["id"])
    assert item.owner == user
    assert set(Tag.objects.filter(owner=user).values_list("name", flat=True)) == {"Work", "q3"}


def test_tags_are_reused_case_insensitively_per_owner(user_client, user, outsider):
    TagFactory(owner=user, name="Work")
    TagFactory(owner=outsider, name="work")
    response = user_client.post(ITEMS, {"kind": "note", "title": "A", "tags": ["WORK", "work", " Work "]})
    assert response.status_code == 201
    assert response.json()["tags"] == ["Work"]
    assert Tag.objects.filter(owner=user).count() == 1


def test_create_link_defaults_title_to_url(user_client):
    response = user_client.post(ITEMS, {"kind": "link", "url": "https://example.com/docs"})
    assert response.status_code == 201, response.content
    assert response.json()["title"] == "https://example.com/docs"


@pytest.mark.parametrize("url", ["", "not a url", "javascript:alert(1)", "ftp://example.com/x", "file:///etc/passwd"])
def test_link_needs_a_valid_http_url(user_client, url):
    response = user_client.post(ITEMS, {"kind": "link", "title": "x", "url": url})
    assert response.status_code == 400
    assert "url" in response.json()


def test_note_needs_a_title(user_client):
    response = user_client.post(ITEMS, {"kind": "note", "content": "body only"})
    assert response.status_code == 400
    assert "title" in response.json()


def test_file_item_needs_a_file(user_client):
    response = user_client.post(ITEMS, {"kind": "file", "title": "x"})
    assert response.status_code == 400
    assert "file" in response.json()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "no kind"}, "kind"),
        ({"kind": "video", "title": "x"}, "kind"),
        ({"kind": "note", "title": "x" * 201}, "title"),
        ({"kind": "note", "title": "x", "tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"kind": "note", "title": "x", "tags": ["x" * 51]}, "tags"),
        ({"kind": "note", "title": "x", "tags": "notalist"}, "tags"),
        ({"kind": "note", "title": "x", "content": "y" * 100_001}, "content"),
    ],
)
def test_create_validation_names_the_field(user_client, payload, field):
    response = user_client.post(ITEMS, payload)
    assert response.status_code == 400
    assert field in response.json()


# --- read, update, delete -------------------------------------------------------------------------


def test_get_patch_delete(user_client, user):
    item = ItemFactory(owner=user, title="Old", content="old text")
    assert user_client.get(item_url(item)).json()["title"] == "Old"

    response = user_client.patch(item_url(item), {"title": "New", "tags": ["b", "a"]})
    assert response.status_code == 200
    assert response.json()["title"] == "New"
    assert response.json()["content"] == "old text"  # untouched fields are kept
    assert sorted(response.json()["tags"]) == ["a", "b"]

    response = user_client.patch(item_url(item), {"tags": []})
    assert response.json()["tags"] == []

    assert user_client.delete(item_url(item)).status_code == 204
    assert not Item.objects.filter(pk=item.pk).exists()


def test_patch_validation(user_client, user):
    note = ItemFactory(owner=user)
    link = ItemFactory(owner=user, kind="link", url="https://example.com", title="Link")
    assert "title" in user_client.patch(item_url(note), {"title": "  "}).json()
    response = user_client.patch(item_url(link), {"url": "javascript:alert(1)"})
    assert response.status_code == 400
    assert "url" in response.json()
    link.refresh_from_db()
    assert link.url == "https://example.com"


def test_unauthenticated_is_401(api_client, user):
    item = ItemFactory(owner=user)
    for method, url in [
        ("get", ITEMS),
        ("post", ITEMS),
        ("get", item_url(item)),
        ("patch", item_url(item)),
        ("delete", item_url(item)),
        ("get", f"{item_url(item)}/file"),
        ("get", "/api/v1/collector/tags"),
    ]:
        assert getattr(api_client, method)(url).status_code == 401, (method, url)


def test_outsider_gets_404_on_every_item_route(outsider_client, user):
    item = ItemFactory(owner=user)
    assert outsider_client.get(item_url(item)).status_code == 404
    assert outsider_client.patch(item_url(item), {"title": "hijack"}).status_code == 404
    assert outsider_client.delete(item_url(item)).status_code == 404
    assert outsider_client.get(f"{item_url(item)}/file").status_code == 404
    assert outsider_client.get(ITEMS).json()["results"] == []
    item.refresh_from_db()
    assert item.title != "hijack"


# --- search, filters, ordering -----------------------------------------------------------------


def _titles(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["title"] for row in response.json()["results"]}


def test_every_keyword_must_match_some_field(user_client, user, outsider):
    ItemFactory(owner=user, kind="link", title="Python tips", url="https://django.example/guide", content="")
    ItemFactory(owner=user, title="Python only", content="nothing else")
    ItemFactory(owner=user, title="Misc", content="DJANGO and python in the body")
    ItemFactory(owner=outsider, title="python django outsider", content="")

    assert _titles(user_client.get(ITEMS, {"q": "python,django"})) == {"Python tips", "Misc"}
    assert _titles(user_client.get(ITEMS, {"q": " PYTHON , , "})) == {"Python tips", "Python only", "Misc"}
    assert _titles(user_client.get(ITEMS, {"q": "python,nowhere"})) == set()
    assert _titles(user_client.get(ITEMS, {"q": ""})) == {"Python tips", "Python only", "Misc"}


def test_query_longer_than_the_schema_allows_is_400(user_client):
    # The schema declares q's limit (100 characters); any number of keywords fits in it.
    assert user_client.get(ITEMS, {"q": ",".join(f"k{i}" for i in range(20))}).status_code == 200
    response = user_client.get(ITEMS, {"q": "k" * 101})
    assert response.status_code == 400
    assert "q" in response.json()


def test_tag_and_kind_filters(user_client, user):
    work = TagFactory(owner=user, name="Work")
    ItemFactory(owner=user, title="tagged", tags=[work])
    ItemFactory(owner=user, title="untagged")
    ItemFactory(owner=user, title="a link", kind="link", url="https://example.com", tags=[work])

    assert _titles(user_client.get(ITEMS, {"tag": "work"})) == {"tagged", "a link"}
    assert _titles(user_client.get(ITEMS, {"tag": "work", "kind": "note"})) == {"tagged"}
    assert _titles(user_client.get(ITEMS, {"tag": "missing"})) == set()
    response = user_client.get(ITEMS, {"kind": "video"})
    assert response.status_code == 400
    assert "kind" in response.json()


def test_ordering(user_client, user):
    for title in ("banana", "apple", "cherry"):
        ItemFactory(owner=user, title=title)
    titles = lambda response: [row["title"] for row in response.json()["results"]]  # noqa: E731
    assert titles(user_client.get(ITEMS, {"ordering": "title"})) == ["apple", "banana", "cherry"]
    assert titles(user_client.get(ITEMS, {"ordering": "-title"})) == ["cherry", "banana", "apple"]
    assert titles(user_client.get(ITEMS)) == ["cherry", "apple", "banana"]  # newest first by default
    response = user_client.get(ITEMS, {"ordering": "owner__email"})
    assert response.status_code == 400
    assert "ordering" in response.json()


def test_pagination(user_client, user):
    ItemFactory.create_batch(25, owner=user)
    first = user_client.get(ITEMS).json()
    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert len(user_client.get(ITEMS, {"page": 2}).json()["results"]) == 5


@pytest.mark.parametrize("rows", [1, 100])
def test_item_list_query_count_is_constant(user_client, user, django_assert_num_queries, rows):
    tags = [TagFactory(owner=user, name=f"t{i}") for i in range(3)]
    ItemFactory.create_batch(rows, owner=user, tags=tags)
    # 1 device/user (auth), 2 count, 3 page of items, 4 their tags (prefetch).
    with django_assert_num_queries(4):
        response = user_client.get(ITEMS, {"q": "reference", "tag": "t1", "ordering": "title"})
    assert response.json()["count"] == rows
    assert sorted(response.json()["results"][0]["tags"]) == ["t0", "t1", "t2"]


# --- tags -----------------------------------------------------------------------------------------


def test_tag_list_counts_items(user_client, user, outsider):
    work, home = TagFactory(owner=user, name="work"), TagFactory(owner=user, name="home")
    ItemFactory.create_batch(2, owner=user, tags=[work])
    ItemFactory(owner=user, tags=[work, home])
    TagFactory(owner=outsider, name="secret")
    response = user_client.get("/api/v1/collector/tags")
    assert response.status_code == 200
    assert {row["name"]: row["item_count"] for row in response.json()["results"]} == {"home": 1, "work": 3}


@pytest.mark.parametrize("rows", [1, 100])
def test_tag_list_query_count_is_constant(user_client, user, django_assert_num_queries, rows):
    for i in range(rows):
        ItemFactory(owner=user, tags=[TagFactory(owner=user, name=f"tag{i}")])
    # 1 auth, 2 count, 3 tags annotated with their item counts.
    with django_assert_num_queries(3):
        response = user_client.get("/api/v1/collector/tags")
    assert response.json()["count"] == rows


def test_a_null_tag_in_a_form_body_is_refused(user_client):
    # Form encoders write a null as the text "null": no tag name there (in JSON it is one).
    note = {"kind": "note", "title": "n", "tags": ["null"]}
    form = user_client.post(ITEMS, note, format="multipart")
    as_json = user_client.post(ITEMS, note, format="json")

    assert form.status_code == 400 and "tags" in form.json()
    assert as_json.status_code == 201 and as_json.json()["tags"] == ["null"]
