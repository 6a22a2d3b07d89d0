"""Share -> read signed out -> clone as someone else -> continue with a real (local) reply."""

import pytest

from conversations.models import LLMModel, Message

from .factories import conversation_with_messages

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def seeded_model(local_model_row):
    # The seeded embedded model (its server runs for the session), held to a few tokens.
    model = LLMModel.objects.get(slug="smollm2-135m")
    model.max_output_tokens = 8
    model.save(update_fields=["max_output_tokens"])
    return model


def test_share_read_clone_and_continue_with_a_real_reply(user_client, api_client, outsider_client, user, seeded_model):
    conversation = conversation_with_messages(
        owner=user, pairs=[("Name a colour.", "Blue.")], model=seeded_model, title="Colours"
    )
    share_id = user_client.post("/api/v1/shares", {"conversation_id": str(conversation.pk)}).json()["id"]

    public = api_client.get(f"/api/v1/shares/{share_id}")
    assert public.status_code == 200
    assert [m["content"] for m in public.json()["messages"]] == ["Name a colour.", "Blue."]

    cloned = outsider_client.post(f"/api/v1/shares/{share_id}/clone")
    assert cloned.status_code == 201
    clone_id = cloned.json()["id"]
    assert cloned.json()["model"] == "smollm2-135m"

    reply = outsider_client.post(
        f"/api/v1/conversations/{clone_id}/messages?wait=true", {"content": "Name another one."}, format="json"
    )
    assert reply.status_code == 201, reply.content
    assistant = reply.json()["assistant_message"]
    assert assistant["status"] == "complete", assistant
    assert assistant["content"].strip()
    rows = list(Message.objects.filter(conversation_id=clone_id).order_by("created_at", "id"))
    assert [m.content for m in rows[:3]] == ["Name a colour.", "Blue.", "Name another one."]
    assert rows[3].role == "assistant" and rows[3].content == assistant["content"]
    # The original is untouched by the stranger's follow-up.
    assert Message.objects.filter(conversation=conversation, content="Name another one.").count() == 0
