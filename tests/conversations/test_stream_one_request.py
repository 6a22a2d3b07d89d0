"""One request per reply: a send that asks for ``text/event-stream`` is answered with its reply's
stream (a real uvicorn server, a real HTTP client and a real upstream)."""

import threading
from types import SimpleNamespace

import httpx
import pytest
from django.db import connection
from django.db.backends.signals import connection_created

from conversations.api.stream import prefers_event_stream
from conversations.models import Message, MessageStatus
from tests.conversations.sse import iter_events
from tests.conversations.test_stream import bearer, collect, make_model, text_of, wait_until_final
from tests.conversations.upstream import expected_text, upstream  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

SSE = {"Accept": "text/event-stream"}


def _start(base, user, model) -> tuple[str, dict]:
    headers = bearer(user)
    created = httpx.post(f"{base}/api/v1/conversations", json={"model": model.slug}, headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    return created.json()["id"], headers


def _post_stream(url, headers, body, *, leave_after: int | None = None) -> list:
    with httpx.stream("POST", url, json=body, headers={**headers, **SSE}, timeout=20) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        events = []
        for event in iter_events(response):
            events.append(event)
            if leave_after is not None and len(events) >= leave_after:
                break
        return events


def _assert_whole_reply(events, *, tokens: int) -> dict:
    created = events[0]
    assert created.name == "message.created"
    reply_id = created.data["assistant_message"]["id"]
    assert created.raw_id == f"{reply_id}:0"
    assert [e.name for e in events[1:2]] == ["message.start"]
    assert events[-1].name == "message.done" and events[-1].data["status"] == MessageStatus.COMPLETE
    assert {e.message_id for e in events} == {reply_id}
    assert [e.id for e in events] == list(range(len(events)))
    assert text_of(events[1:]) == expected_text(tokens)
    return created.data


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        (None, False),
        ("application/json", False),
        ("*/*", False),
        ("text/event-stream", True),
        ("text/event-stream, application/json", True),
        ("application/json, text/event-stream", False),
        ("application/json;q=0.5, text/event-stream", True),
        ("text/event-stream;q=0.5, application/json", False),
        ("text/event-stream, */*", True),
        ("text/event-stream;q=0, application/json", False),
        ("text/event-stream;q=junk", False),
    ],
)
def test_which_accept_headers_ask_for_the_stream(accept, wanted):
    assert prefers_event_stream(accept) is wanted


def test_one_post_answers_with_the_reply_stream_and_the_ids_of_get_stream(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "normal:25")
    conversation_id, headers = _start(asgi_server, user, model)

    events = _post_stream(
        f"{asgi_server}/api/v1/conversations/{conversation_id}/messages", headers, {"content": "Tell me a story"}
    )

    created = _assert_whole_reply(events, tokens=25)
    reply_id = created["assistant_message"]["id"]
    assert created["conversation_id"] == conversation_id
    assert created["user_message"]["content"] == "Tell me a story"
    assert created["assistant_message"]["status"] == MessageStatus.PENDING
    assert created["stream_url"] == f"/api/v1/conversations/{conversation_id}/stream"
    saved = wait_until_final(reply_id)
    assert saved.status == MessageStatus.COMPLETE and saved.content == expected_text(25)

    again = collect(asgi_server, SimpleNamespace(pk=conversation_id), {**headers, "Last-Event-ID": f"{reply_id}:0"})
    assert [(e.raw_id, e.name) for e in again] == [(e.raw_id, e.name) for e in events[1:]]


def test_a_client_that_leaves_resumes_with_get_stream_and_the_reply_is_saved(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "slow:30")
    conversation_id, headers = _start(asgi_server, user, model)

    first = _post_stream(
        f"{asgi_server}/api/v1/conversations/{conversation_id}/messages", headers, {"content": "Hi"}, leave_after=5
    )
    assert first[0].name == "message.created"
    reply_id = first[0].data["assistant_message"]["id"]
    assert first[-1].name != "message.done"

    rest = collect(asgi_server, SimpleNamespace(pk=conversation_id), {**headers, "Last-Event-ID": first[-1].raw_id})
    events = first + rest
    assert [e.id for e in events] == list(range(len(events)))  # every later event, once, in order
    assert events[-1].name == "message.done"
    assert text_of(events[1:]) == expected_text(30)
    saved = wait_until_final(reply_id)
    assert saved.status == MessageStatus.COMPLETE and saved.content == expected_text(30)


def test_the_reply_goes_on_and_is_saved_when_the_client_leaves(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "slow:20")
    conversation_id, headers = _start(asgi_server, user, model)

    first = _post_stream(
        f"{asgi_server}/api/v1/conversations/{conversation_id}/messages", headers, {"content": "Hi"}, leave_after=3
    )

    saved = wait_until_final(first[0].data["assistant_message"]["id"])
    assert saved.status == MessageStatus.COMPLETE and saved.content == expected_text(20)


def test_a_first_message_streams_from_the_conversations_creation(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "normal:10")
    events = _post_stream(
        f"{asgi_server}/api/v1/conversations", bearer(user), {"model": model.slug, "message": "Hello there"}
    )

    created = _assert_whole_reply(events, tokens=10)
    assert created["conversation"]["id"] == created["conversation_id"]
    assert created["user_message"]["content"] == "Hello there"


def test_regenerate_and_edit_stream_their_reply(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "normal:8")
    conversation_id, headers = _start(asgi_server, user, model)
    base = f"{asgi_server}/api/v1/conversations/{conversation_id}"
    sent = _assert_whole_reply(_post_stream(f"{base}/messages", headers, {"content": "Hi"}), tokens=8)
    wait_until_final(sent["assistant_message"]["id"])

    regenerated = _assert_whole_reply(_post_stream(f"{base}/regenerate", headers, {}), tokens=8)
    assert regenerated["user_message"]["id"] == sent["user_message"]["id"]
    assert regenerated["assistant_message"]["id"] != sent["assistant_message"]["id"]
    wait_until_final(regenerated["assistant_message"]["id"])

    reply_id = regenerated["assistant_message"]["id"]
    again = _assert_whole_reply(_post_stream(f"{base}/messages/{reply_id}/regenerate", headers, {}), tokens=8)
    wait_until_final(again["assistant_message"]["id"])

    edited = _assert_whole_reply(
        _post_stream(f"{base}/edit", headers, {"message_id": sent["user_message"]["id"], "content": "Hello"}),
        tokens=8,
    )
    assert edited["user_message"]["content"] == "Hello"
    assert wait_until_final(edited["assistant_message"]["id"]).status == MessageStatus.COMPLETE


def test_continue_streams_its_new_reply(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "normal:6")
    conversation_id, headers = _start(asgi_server, user, model)
    base = f"{asgi_server}/api/v1/conversations/{conversation_id}"
    sent = _assert_whole_reply(_post_stream(f"{base}/messages", headers, {"content": "Hi"}), tokens=6)
    cut_id = sent["assistant_message"]["id"]
    wait_until_final(cut_id)
    Message.objects.filter(pk=cut_id).update(finish_reason="length")  # as if cut at the output limit

    continued = _assert_whole_reply(_post_stream(f"{base}/messages/{cut_id}/continue", headers, {}), tokens=6)
    assert "user_message" not in continued and continued["conversation_id"] == conversation_id
    assert continued["assistant_message"]["continues"] == cut_id
    assert continued["stream_url"].endswith(f"/conversations/{conversation_id}/stream")
    assert wait_until_final(continued["assistant_message"]["id"]).status == MessageStatus.COMPLETE
    # A refusal (the cut reply has a continuation now) stays JSON with its status.
    again = httpx.post(f"{base}/messages/{cut_id}/continue", headers={**headers, **SSE}, timeout=10)
    assert again.status_code == 409 and again.json()["code"] == "not_last_message"


def test_json_stays_json_and_refusals_stay_json_with_their_status(asgi_server, upstream, user, outsider):  # noqa: F811
    model = make_model(upstream, "normal:5")
    conversation_id, headers = _start(asgi_server, user, model)
    url = f"{asgi_server}/api/v1/conversations/{conversation_id}/messages"

    plain = httpx.post(url, json={"content": "Hi"}, headers=headers, timeout=10)
    assert plain.status_code == 202, plain.text
    assert plain.headers["content-type"] == "application/json"
    assert set(plain.json()) == {"user_message", "assistant_message", "stream_url"}
    wait_until_final(plain.json()["assistant_message"]["id"])

    sse_headers = {**headers, **SSE}
    blank = httpx.post(url, json={"content": "  "}, headers=sse_headers, timeout=10)
    assert blank.status_code == 400
    assert blank.headers["content-type"] == "application/json" and "content" in blank.json()

    theirs = httpx.post(url, json={"content": "Hi"}, headers={**bearer(outsider), **SSE}, timeout=10)
    assert theirs.status_code == 404
    assert theirs.headers["content-type"] == "application/json" and theirs.json()["code"] == "not_found"

    unsigned = httpx.post(url, json={"content": "Hi"}, headers=SSE, timeout=10)
    assert unsigned.status_code == 401 and unsigned.headers["content-type"] == "application/json"

    listed = httpx.get(url, headers=headers, timeout=10)
    assert listed.status_code == 200 and listed.headers["content-type"] == "application/json"


def kept_between_requests() -> bool:
    """SQLite's connections are kept by their request's thread (``DB_CONN_MAX_AGE``, core/asgi.py);
    PostgreSQL's go back to the pool, or here, where the tests run without one, are closed."""
    return connection.settings_dict["CONN_MAX_AGE"] != 0


def test_a_sent_stream_keeps_no_database_connection_open(asgi_server, upstream, user):  # noqa: F811
    """As ``GET /stream`` (core.db): the view's connection is given back before the stream, not at its end."""
    model = make_model(upstream, "slow:40")
    conversation_id, headers = _start(asgi_server, user, model)
    opened = []

    def record(sender, connection, **kwargs):
        opened.append((threading.current_thread().name, connection))

    connection_created.connect(record)
    try:
        url = f"{asgi_server}/api/v1/conversations/{conversation_id}/messages"
        with httpx.stream("POST", url, json={"content": "Hi"}, headers={**headers, **SSE}, timeout=20) as response:
            events = iter_events(response)
            names = [next(events).name for _ in range(3)]
            # The main thread is the test's; the background thread keeps its one connection on purpose.
            held = [name for name, c in opened if c.connection is not None and name != "MainThread"]
            held = [name for name in held if not name.startswith("background-db")]
            if kept_between_requests():  # a request's (or the loop executor's) thread keeps it for the next
                held = [name for name in held if not name.startswith(("request", "asyncio"))]
            rest = list(events)
    finally:
        connection_created.disconnect(record)
    assert names == ["message.created", "message.start", "delta"]
    assert held == []
    assert rest[-1].name == "message.done"
