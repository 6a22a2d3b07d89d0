"""Streams on a tree, through a real server: each reply's events carry ids of their own
(``<message id>:<n>``), a ``Last-Event-ID`` of one reply is never read as another's, and a reply
generating on one branch finishes there while the owner looks at another."""

import httpx
import pytest

from conversations.models import Conversation, MessageStatus
from tests.conversations.sse import iter_events
from tests.conversations.test_stream import bearer, make_model, stream_url, wait_until_final
from tests.conversations.upstream import expected_text, upstream  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def events_of(base, conversation_id, headers, **kw) -> list:
    url = f"{base}/api/v1/conversations/{conversation_id}/stream"
    with httpx.stream("GET", url, headers=headers, timeout=20, **kw) as response:
        assert response.status_code == 200, response.read()
        return list(iter_events(response))


def text_of(events) -> str:
    return "".join(e.data["text"] for e in events if e.name in ("snapshot", "delta"))


@pytest.fixture
def branching(asgi_server, upstream, user):  # noqa: F811
    """A chat whose first reply is finished and whose second version is being generated slowly
    while the owner has switched back to the first."""
    fast, slow = make_model(upstream, "burst:5"), make_model(upstream, "slow:30")
    headers = bearer(user)
    api = httpx.Client(base_url=asgi_server, headers=headers, timeout=20)
    created = api.post("/api/v1/conversations?wait=true", json={"message": "Hello", "model": fast.slug}).json()
    first = created["assistant_message"]
    assert first["status"] == "complete"
    regenerated = api.post(
        f"/api/v1/conversations/{created['id']}/messages/{first['id']}/regenerate", json={"model": slow.slug}
    )
    assert regenerated.status_code == 202, regenerated.content
    second = regenerated.json()["assistant_message"]
    assert second["sibling_ids"] == [first["id"], second["id"]]
    switched = api.patch(f"/api/v1/conversations/{created['id']}", json={"current_message_id": first["id"]})
    assert switched.status_code == 200 and switched.json()["current_message_id"] == first["id"]
    return api, headers, created["id"], first["id"], second["id"]


def test_each_reply_streams_with_ids_of_its_own_and_finishes_on_its_branch(asgi_server, branching):
    api, headers, conversation_id, first, second = branching

    # The default follows what the owner looks at: the first version, finished.
    shown = events_of(asgi_server, conversation_id, headers)
    assert [e.name for e in shown] == ["snapshot", "message.done"]
    assert {e.message_id for e in shown} == {first} and text_of(shown) == expected_text(5)

    # The version being generated, named: every event, ids "<its id>:<n>" from 1.
    followed = events_of(asgi_server, conversation_id, headers, params={"message_id": second, "last_event_id": 0})
    assert [e.raw_id for e in followed] == [f"{second}:{n}" for n in range(1, len(followed) + 1)]
    assert followed[-1].name == "message.done" and followed[-1].data["status"] == "complete"
    assert text_of(followed) == expected_text(30)

    # It finished where it was asked, and the owner's choice stayed.
    assert wait_until_final(second).content == expected_text(30)
    assert str(Conversation.objects.get(pk=conversation_id).current_message_id) == first
    listed = api.get(f"/api/v1/conversations/{conversation_id}/messages").json()["results"]
    assert [m["id"] for m in listed][-1] == first


def test_last_event_id_resumes_its_own_reply_and_no_other(asgi_server, branching):
    _api, headers, conversation_id, first, second = branching
    wait_until_final(second)
    whole = events_of(asgi_server, conversation_id, headers, params={"message_id": second, "last_event_id": 0})

    # The id alone says which reply: the rest of the second version, though the first is shown.
    resumed = events_of(asgi_server, conversation_id, {**headers, "Last-Event-ID": whole[2].raw_id})
    assert [e.raw_id for e in resumed] == [e.raw_id for e in whole[3:]]

    # The second version's id while following the first: the first from its start, not from n.
    other = events_of(
        asgi_server, conversation_id, {**headers, "Last-Event-ID": f"{second}:1"}, params={"message_id": first}
    )
    assert other[0].name == "snapshot" and text_of(other) == expected_text(5)
    assert {e.message_id for e in other} == {first}

    # An id of no reply here (another conversation's, a deleted one's): the default reply, whole.
    stray = events_of(asgi_server, conversation_id, {**headers, "Last-Event-ID": f"{conversation_id}:3"})
    assert stray[0].name == "snapshot" and {e.message_id for e in stray} == {first}


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"last_event_id": "not-a-uuid:3"}, 400, "last_event_id"),
        ({"last_event_id": "5:"}, 400, "last_event_id"),
        ({"message_id": "12"}, 400, "message_id"),
        ({"message_id": "00000000-0000-4000-8000-000000000000"}, 404, None),
    ],
)
def test_bad_resume_ids_are_4xx_naming_the_problem(asgi_server, branching, params, status, field):
    _api, headers, conversation_id, _first, _second = branching
    response = httpx.get(stream_url(asgi_server, _Ref(conversation_id)), headers=headers, params=params, timeout=10)
    assert response.status_code == status
    body = response.json()
    assert field in body if field else body["code"] == "message_not_found"


def test_stop_names_the_reply_it_stops(asgi_server, branching):
    api, _headers, conversation_id, first, second = branching
    refused = api.post(f"/api/v1/conversations/{conversation_id}/stop", json={"message_id": first})
    assert refused.status_code == 409 and refused.json()["code"] == "nothing_in_flight"
    stopped = api.post(f"/api/v1/conversations/{conversation_id}/stop", json={"message_id": second})
    assert stopped.status_code == 202 and stopped.json()["message"]["id"] == second
    assert wait_until_final(second).status == MessageStatus.STOPPED


class _Ref:
    def __init__(self, pk):
        self.pk = pk
