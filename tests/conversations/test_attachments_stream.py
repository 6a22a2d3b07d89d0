"""The ``sources`` event on the reply's stream (SSE through a real server): before the first delta,
in the log so a resuming client gets it again, in the snapshot of a reply in flight and in the
final state rebuilt from the row."""

import pytest

from conversations import generation
from conversations.models import Conversation, Message, MessageStatus, Role
from conversations.streaming import eventlog
from conversations.streaming.listener import final_events_from_row
from tests.conversations.attached import document, text_model
from tests.conversations.replies import finish_reply
from tests.conversations.test_stream import bearer, collect, wait_for_text, wait_until_final
from tests.conversations.upstream import upstream  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = ["Nothing here but the weather.", "The Orrery project deadline is the ninth of May."]
QUESTION = "What is the Orrery project deadline?"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def asked(user, model) -> tuple[Conversation, Message, object]:
    """A question with a document attached and its pending reply, as the API makes them."""
    report = document(user, name="plan.pdf", pages=PAGES)
    conversation = Conversation.objects.create(owner=user, model=model)
    question = Message.objects.create(conversation=conversation, role=Role.USER, content=QUESTION, model=model)
    question.attachments.set([report])
    reply = Message.objects.create(
        conversation=conversation, parent=question, role=Role.ASSISTANT, status=MessageStatus.PENDING, model=model
    )
    return conversation, reply, report


def test_sources_come_before_the_first_delta_and_replay_on_resume(asgi_server, upstream, user, settings):  # noqa: F811
    model = text_model(upstream, "burst:6")
    conversation, reply, report = asked(user, model)
    finish_reply(message_id=reply.id)

    events = collect(asgi_server, conversation, bearer(user), params={"last_event_id": 0})

    names = [event.name for event in events]
    assert names[:3] == ["message.start", "sources", "delta"], names
    assert names[-1] == "message.done"
    sources = events[1].data["sources"]
    assert events[1].data["message_id"] == str(reply.id)
    assert sources == [
        {
            "n": 1,
            "kind": "file",
            "id": str(report.pk),
            "title": "plan.pdf",
            "snippet": PAGES[1],
            "page": 2,
        }
    ]
    assert Message.objects.get(pk=reply.pk).sources == sources

    # A client that had only message.start resumes and gets the sources again, once, in order.
    resumed = collect(asgi_server, conversation, bearer(user), params={"last_event_id": events[0].id})
    assert [e.name for e in resumed][:2] == ["sources", "delta"]
    assert resumed[0].id == events[1].id and resumed[0].data == events[1].data

    # Without the log (another process, or long after), the row's final state carries them.
    eventlog.local_clear()
    settings.REDIS_URL = ""  # nor the shared log: the row alone (the server runs in this process)
    final = collect(asgi_server, conversation, bearer(user), params={"last_event_id": events[-1].id - 3})
    assert final[0].name == "snapshot" and final[0].data["sources"] == sources
    row = Message.objects.get(pk=reply.pk)
    assert final_events_from_row(row, after=0)[0].data.sources == sources


def test_a_late_joiner_gets_the_sources_in_the_snapshot(asgi_server, upstream, user):  # noqa: F811
    model = text_model(upstream, "slow:40")
    conversation, reply, _report = asked(user, model)
    generation.start_generation(message_id=reply.id)
    log = wait_for_text(reply.id)

    snapshot = log.snapshot()
    assert snapshot.data.sources and snapshot.data.sources[0]["page"] == 2
    events = collect(asgi_server, conversation, bearer(user))  # no Last-Event-ID: a late joiner
    assert events[0].name == "snapshot"
    assert events[0].data["sources"][0]["snippet"] == PAGES[1]
    assert "sources" not in [e.name for e in events[1:]]  # it had them already, in the snapshot
    # The row has them while the reply is still being written (a reader of the messages sees them).
    assert Message.objects.get(pk=reply.pk).sources[0]["page"] == 2
    wait_until_final(reply.id)


def test_a_reply_without_sources_has_no_sources_event(asgi_server, upstream, user):  # noqa: F811
    model = text_model(upstream, "burst:3")
    conversation = Conversation.objects.create(owner=user, model=model)
    Message.objects.create(conversation=conversation, role=Role.USER, content="Hello", model=model)
    reply = Message.objects.create(
        conversation=conversation, role=Role.ASSISTANT, status=MessageStatus.PENDING, model=model
    )
    finish_reply(message_id=reply.id)
    events = collect(asgi_server, conversation, bearer(user), params={"last_event_id": 0})
    assert [e.name for e in events][:2] == ["message.start", "delta"]
    assert Message.objects.get(pk=reply.pk).sources == []
