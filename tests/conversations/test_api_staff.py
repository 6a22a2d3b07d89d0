"""Staff only: GET /users/{user_id}/conversations, GET/DELETE /users/{user_id}/conversations/{id}."""

import pytest

from conversations.models import Conversation
from tests.conversations.factories import AssistantMessageFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def list_url(user) -> str:
    return f"/api/v1/users/{user.pk}/conversations"


def detail_url(user, conversation) -> str:
    return f"{list_url(user)}/{conversation.pk}"


def test_staff_lists_a_users_conversations_including_archived(staff_client, user, outsider):
    ConversationFactory(owner=user, title="active")
    ConversationFactory(owner=user, title="archived", archived=True)
    ConversationFactory(owner=outsider, title="someone else")
    response = staff_client.get(list_url(user))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert sorted(row["title"] for row in rows) == ["active", "archived"]
    assert {row["owner_email"] for row in rows} == {"alice@example.com"}
    assert staff_client.get(list_url(user), {"archived": "true"}).json()["count"] == 1


def test_staff_list_query_count_is_the_same_for_1_and_100_rows(staff_client, user, django_assert_num_queries):
    MessageFactory(conversation=ConversationFactory(owner=user))
    # device session (auth), the target user, page count, the page.
    with django_assert_num_queries(4):
        staff_client.get(list_url(user))
    for _ in range(99):
        MessageFactory(conversation=ConversationFactory(owner=user))
    with django_assert_num_queries(4):
        assert len(staff_client.get(list_url(user), {"page_size": 100}).json()["results"]) == 100


def test_staff_reads_a_conversation_with_its_messages(staff_client, user):
    conversation = ConversationFactory(owner=user, system_prompt="Be brief.")
    MessageFactory(conversation=conversation, content="question")
    AssistantMessageFactory(conversation=conversation, content="answer")
    response = staff_client.get(detail_url(user, conversation))
    assert response.status_code == 200
    body = response.json()
    assert body["owner_email"] == "alice@example.com"
    assert [m["content"] for m in body["messages"]] == ["question", "answer"]


def test_staff_deletes_a_conversation(staff_client, user):
    conversation = ConversationFactory(owner=user)
    assert staff_client.delete(detail_url(user, conversation)).status_code == 204
    assert not Conversation.objects.filter(pk=conversation.pk).exists()


def test_conversation_under_the_wrong_user_is_404(staff_client, user, outsider):
    conversation = ConversationFactory(owner=user)
    assert staff_client.get(detail_url(outsider, conversation)).status_code == 404
    assert staff_client.delete(detail_url(outsider, conversation)).status_code == 404
    assert Conversation.objects.filter(pk=conversation.pk).exists()


def test_unknown_user_is_404(staff_client):
    assert staff_client.get("/api/v1/users/999999/conversations").status_code == 404


def test_staff_list_rejects_a_malformed_filter(staff_client, user):
    response = staff_client.get(list_url(user), {"pinned": "often"})
    assert response.status_code == 400
    assert "pinned" in response.json()


@pytest.mark.parametrize("method", ["get", "delete"])
def test_non_staff_gets_403_even_for_their_own_data(user_client, user, method):
    conversation = ConversationFactory(owner=user)
    assert user_client.get(list_url(user)).status_code == 403
    assert getattr(user_client, method)(detail_url(user, conversation)).status_code == 403
    assert Conversation.objects.filter(pk=conversation.pk).exists()


def test_staff_routes_require_authentication(api_client, user):
    conversation = ConversationFactory(owner=user)
    assert api_client.get(list_url(user)).status_code == 401
    assert api_client.get(detail_url(user, conversation)).status_code == 401
    assert api_client.delete(detail_url(user, conversation)).status_code == 401
