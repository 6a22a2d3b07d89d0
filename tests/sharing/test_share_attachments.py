"""A shared conversation with files and sources: strangers see the files named (name, type, size),
never an id that opens one, and the replies' sources as text; a clone copies no file."""

import pytest

from conversations.models import Conversation, Message, MessageStatus, Role
from tests.conversations.attached import document, image_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def shared(user_client, user):
    report = document(user, name="budget.pdf", pages=["Line one.", "The reserve is 12 percent."])
    picture = image_file(user, name="chart.png")
    conversation = Conversation.objects.create(owner=user, title="Budget")
    question = Message.objects.create(conversation=conversation, role=Role.USER, content="What is the reserve?")
    question.attachments.add(report)
    question.attachments.add(picture)  # in this order (set() keeps none)
    only_files = Message.objects.create(conversation=conversation, parent=question, depth=1, role=Role.USER, content="")
    only_files.attachments.set([picture])
    sources = [
        {
            "n": 1,
            "kind": "file",
            "id": str(report.pk),
            "title": "budget.pdf",
            "snippet": "The reserve is 12 percent.",
            "page": 2,
        }
    ]
    reply = Message.objects.create(
        conversation=conversation,
        parent=only_files,
        depth=2,
        role=Role.ASSISTANT,
        content="It is 12 percent [1].",
        status=MessageStatus.COMPLETE,
        sources=sources,
    )
    Conversation.objects.filter(pk=conversation.pk).update(current_message=reply)
    response = user_client.post("/api/v1/shares", {"conversation_id": str(conversation.pk)})
    assert response.status_code == 201, response.content
    return response.json()["id"], report, picture


def test_a_share_names_files_and_carries_sources_as_text(api_client, shared):
    share_id, report, picture = shared
    body = api_client.get(f"/api/v1/shares/{share_id}").json()
    question, only_files, reply = body["messages"]
    assert question["attachments"] == [
        {"name": "budget.pdf", "content_type": "application/pdf", "size": report.size},
        {"name": "chart.png", "content_type": "image/png", "size": picture.size},
    ]
    assert only_files["content"] == "" and only_files["attachments"][0]["name"] == "chart.png"
    assert reply["sources"] == [
        {"n": 1, "kind": "file", "title": "budget.pdf", "snippet": "The reserve is 12 percent.", "page": 2}
    ]
    assert reply["attachments"] == [] and question["sources"] == []
    raw = api_client.get(f"/api/v1/shares/{share_id}").content.decode()
    assert str(report.pk) not in raw and str(picture.pk) not in raw  # no id that opens a file

    page = api_client.get(f"/share/{share_id}/").content.decode()
    assert "budget.pdf" in page and "chart.png" in page and "The reserve is 12 percent." in page
    assert "(p. 2)" in page
    assert str(report.pk) not in page and str(picture.pk) not in page and "/files/" not in page


def test_a_clone_copies_no_file_and_keeps_the_sources_as_text(outsider_client, outsider, shared):
    share_id, report, _picture = shared
    response = outsider_client.post(f"/api/v1/shares/{share_id}/clone")
    assert response.status_code == 201, response.content
    clone = Conversation.objects.get(pk=response.json()["id"], owner=outsider)
    messages = list(clone.messages.order_by("created_at"))
    assert all(not message.attachments.exists() for message in messages)
    assert messages[1].content == "(Attached: chart.png)"  # a question of files alone names them
    assert messages[2].sources == [
        {"n": 1, "kind": "file", "id": "", "title": "budget.pdf", "snippet": "The reserve is 12 percent.", "page": 2}
    ]
    listed = outsider_client.get(f"/api/v1/conversations/{clone.pk}/messages").json()["results"]
    assert listed[2]["sources"][0]["snippet"] == "The reserve is 12 percent."
    assert str(report.pk) not in str(listed)
