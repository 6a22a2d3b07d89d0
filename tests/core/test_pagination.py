"""Page parameters are checked as the schema declares them, never silently replaced."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query, field",
    [
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=abc", "page_size"),
        ("page_size=" + "9" * 5000, "page_size"),  # no int() of a huge string
        ("page=0", "page"),
        ("page=last", "page"),
        ("page=-1", "page"),
    ],
)
def test_invalid_page_parameters_are_400_naming_them(user_client, query, field):
    response = user_client.get(f"/api/v1/todos?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_a_page_past_the_end_is_404(user_client):
    response = user_client.get("/api/v1/todos?page=2")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_cursor_page_size_is_checked_too(user_client, user):
    from tests.conversations.factories import ConversationFactory

    conversation = ConversationFactory(owner=user)
    response = user_client.get(f"/api/v1/conversations/{conversation.pk}/messages?page_size=201")
    assert response.status_code == 400
    assert "page_size" in response.json()


def test_valid_page_parameters_are_used(user_client, user):
    from todos.services import todo_create

    for n in range(3):
        todo_create(user=user, title=f"t{n}")
    body = user_client.get("/api/v1/todos?page_size=2&page=2").json()
    assert body["count"] == 3 and len(body["results"]) == 1
