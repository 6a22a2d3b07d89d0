"""Real replies: ``?wait=true`` generates with the shipped SmolLM2 model, in its own server process."""

import pytest

from conversations import generation
from conversations.models import Conversation, LLMModel, Message, MessageStatus
from tests.conversations.factories import ConversationFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.usefixtures("local_model_row")]

LIST = "/api/v1/conversations"


@pytest.fixture(autouse=True)
def short_replies(local_model_row):
    # A handful of tokens is enough to prove the path end to end and keeps the test quick.
    LLMModel.objects.filter(slug="smollm2-135m").update(max_output_tokens=8)


def test_wait_true_returns_the_finished_reply(user_client, user):
    conversation = ConversationFactory(owner=user, title="")
    response = user_client.post(
        f"{LIST}/{conversation.pk}/messages?wait=true", {"content": "Say hello in one word."}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    reply = body["assistant_message"]
    assert reply["status"] == "complete", reply
    assert reply["content"].strip()
    assert reply["model"] == "smollm2-135m"
    assert 0 < reply["completion_tokens"] <= 8
    saved = Message.objects.get(pk=reply["id"])
    assert (saved.status, saved.content) == (MessageStatus.COMPLETE, reply["content"])
    # The engine titles a conversation after its first reply, from the user's message.
    assert Conversation.objects.get(pk=conversation.pk).title == "Say hello in one word."


def test_create_with_a_message_and_wait_returns_the_reply(user_client):
    response = user_client.post(f"{LIST}?wait=true", {"message": "What is the capital of France?"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["assistant_message"]["status"] == "complete"
    assert body["assistant_message"]["content"].strip()
    listed = user_client.get(f"{LIST}/{body['id']}/messages").json()["results"]
    assert [m["role"] for m in listed] == ["user", "assistant"]
    assert listed[1]["content"] == body["assistant_message"]["content"]
    assert user_client.get(f"{LIST}/{body['id']}").json()["title"] == "What is the capital of France?"


def test_a_second_turn_sees_a_finished_first_one_and_feedback_applies(user_client, user):
    conversation = ConversationFactory(owner=user)
    url = f"{LIST}/{conversation.pk}/messages?wait=true"
    first = user_client.post(url, {"content": "Hi"}, format="json").json()["assistant_message"]
    second = user_client.post(url, {"content": "And again"}, format="json")
    assert second.status_code == 201  # the first reply is finished, so no 409
    feedback = user_client.post(
        f"{LIST}/{conversation.pk}/feedback", {"message_id": first["id"], "rating": "up"}, format="json"
    )
    assert feedback.status_code == 201
    assert Message.objects.filter(conversation=conversation).count() == 4


def test_stop_a_reply_that_has_not_started(user_client, user, monkeypatch):
    conversation = ConversationFactory(owner=user)
    # A start that does nothing leaves the reply pending, as if the worker were busy. (Capturing
    # the on-commit hook cannot: these tests are transactional, so the service's own transaction
    # commits for real and runs its hooks, and the reply could finish before the stop.)
    monkeypatch.setattr(generation, "start_generation", lambda *, message_id: None)
    sent = user_client.post(f"{LIST}/{conversation.pk}/messages", {"content": "long story"}, format="json")
    reply_id = sent.json()["assistant_message"]["id"]
    response = user_client.post(f"{LIST}/{conversation.pk}/stop")
    assert response.status_code == 202
    assert response.json()["message"]["id"] == reply_id
    assert response.json()["message"]["status"] == "stopped"
    assert Message.objects.get(pk=reply_id).status == MessageStatus.STOPPED
    # Nothing in flight any more.
    assert user_client.post(f"{LIST}/{conversation.pk}/stop").status_code == 409
    # The user's message is kept.
    assert Message.objects.filter(conversation=conversation, role="user", content="long story").exists()
