"""Attaching collector items to a conversation as model context."""

import pytest

from conversations import selectors
from conversations.models import Conversation
from tests.collector.factories import ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(user):
    return Conversation.objects.create(owner=user, title="Research")


def url(conversation) -> str:
    return f"/api/v1/conversations/{conversation.pk}/context-items"


def test_put_then_get(user_client, user, conversation):
    first, second = ItemFactory(owner=user, content="alpha"), ItemFactory(owner=user, content="beta")
    response = user_client.put(url(conversation), {"item_ids": [second.pk, first.pk, second.pk]})
    assert response.status_code == 200, response.content
    assert sorted(response.json()["item_ids"]) == sorted([first.pk, second.pk])
    assert {row["content"] for row in response.json()["items"]} == {"alpha", "beta"}

    assert set(conversation.context_items.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert [i.content for i in selectors.conversation_context_items(conversation=conversation)] == ["alpha", "beta"]
    assert sorted(user_client.get(url(conversation)).json()["item_ids"]) == sorted([first.pk, second.pk])

    response = user_client.put(url(conversation), {"item_ids": []})
    assert response.json() == {"item_ids": [], "items": []}
    assert conversation.context_items.count() == 0


def test_other_users_items_are_rejected_by_id(user_client, user, outsider, conversation):
    mine = ItemFactory(owner=user)
    theirs = ItemFactory(owner=outsider)
    response = user_client.put(url(conversation), {"item_ids": [mine.pk, theirs.pk, 999999]})
    assert response.status_code == 404  # as for any object that is not yours
    assert response.json()["code"] == "items_not_found"
    message = response.json()["detail"]
    assert str(theirs.pk) in message and "999999" in message
    assert conversation.context_items.count() == 0


@pytest.mark.parametrize(
    "payload", [{}, {"item_ids": "1"}, {"item_ids": ["x"]}, {"item_ids": list(range(1, 22))}, {"item_ids": [0]}]
)
def test_bad_input_names_item_ids(user_client, conversation, payload):
    response = user_client.put(url(conversation), payload)
    assert response.status_code == 400
    assert "item_ids" in response.json()


def test_outsider_and_anonymous(outsider_client, api_client, outsider, conversation):
    own_item = ItemFactory(owner=outsider)
    assert outsider_client.get(url(conversation)).status_code == 404
    assert outsider_client.put(url(conversation), {"item_ids": [own_item.pk]}).status_code == 404
    assert conversation.context_items.count() == 0
    assert api_client.get(url(conversation)).status_code == 401
    assert api_client.put(url(conversation), {"item_ids": []}).status_code == 401


def test_context_ignores_items_no_longer_owned(user, outsider, conversation):
    # Even if a foreign row slipped into the relation, it is never given to the model.
    conversation.context_items.set([ItemFactory(owner=outsider, content="secret")])
    assert list(selectors.conversation_context_items(conversation=conversation)) == []
