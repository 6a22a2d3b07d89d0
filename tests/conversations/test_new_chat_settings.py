"""A new chat's settings sent with its first message (``POST /conversations``): the system prompt and
the collector items, in the one transaction that creates it (a client keeps them until then, so
choosing them makes no empty conversation)."""

import pytest

from conversations.models import Conversation
from tests.collector.factories import ItemFactory

pytestmark = pytest.mark.django_db

CONVERSATIONS = "/api/v1/conversations"


def test_the_first_message_brings_the_system_prompt_and_the_items(user_client, user):
    first, second = ItemFactory(owner=user, content="alpha"), ItemFactory(owner=user, content="beta")

    response = user_client.post(
        CONVERSATIONS,
        {"message": "Hello", "system_prompt": "Answer in Korean.", "item_ids": [second.pk, first.pk]},
        format="json",
    )

    assert response.status_code == 201, response.content
    conversation = Conversation.objects.get(pk=response.json()["id"])
    assert conversation.system_prompt == "Answer in Korean."
    assert set(conversation.context_items.values_list("pk", flat=True)) == {first.pk, second.pk}
    listed = user_client.get(f"{CONVERSATIONS}/{conversation.pk}/context-items").json()
    assert sorted(listed["item_ids"]) == sorted([first.pk, second.pk])


def test_an_item_not_yours_leaves_no_conversation_behind(user_client, user, outsider):
    theirs = ItemFactory(owner=outsider)

    response = user_client.post(CONVERSATIONS, {"message": "Hello", "item_ids": [theirs.pk]}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "items_not_found"
    assert str(theirs.pk) in response.json()["detail"]
    assert not Conversation.objects.filter(owner=user).exists()


@pytest.mark.parametrize(
    "item_ids", ["1", [0], ["x"], list(range(1, 100))], ids=["not a list", "zero", "not a number", "too many"]
)
def test_bad_item_ids_name_the_field(user_client, user, item_ids):
    response = user_client.post(CONVERSATIONS, {"message": "Hello", "item_ids": item_ids}, format="json")

    assert response.status_code == 400
    assert "item_ids" in response.json()
    assert not Conversation.objects.filter(owner=user).exists()


def test_without_item_ids_nothing_changes(user_client, user):
    response = user_client.post(CONVERSATIONS, {"message": "Hello"}, format="json")

    assert response.status_code == 201
    assert Conversation.objects.get(pk=response.json()["id"]).context_items.count() == 0
