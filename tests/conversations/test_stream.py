"""SSE streaming through a real uvicorn server, a real HTTP client and a real upstream."""

import time

import httpx
import pytest
from django.core.management import call_command

from accounts import services as account_services
from conversations import generation
from conversations.models import Conversation, LLMModel, Message, MessageStatus, Role
from conversations.streaming import eventlog
from tests.conversations.replies import finish_reply
from tests.conversations.sse import iter_events
from tests.conversations.upstream import expected_text, upstream  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def make_model(upstream, mode: str) -> LLMModel:  # noqa: F811
    return LLMModel.objects.create(
        slug=mode.replace(":", "-").replace(".", "-"),
        display_name=mode,
        provider="openai",
        upstream_model=mode,
        base_url=upstream.base_url,
        request_timeout_seconds=5.0,
        max_output_tokens=4000,
        context_window=8192,
    )


def bearer(user) -> dict:
    session = account_services.session_start(user=user, login_type="local", device_id=None)
    return {"Authorization": f"Bearer {session.tokens.access}"}


def exchange(owner, model, question="Hello") -> tuple[Conversation, Message]:
    conversation = Conversation.objects.create(owner=owner, model=model)
    Message.objects.create(conversation=conversation, role=Role.USER, content=question, model=model)
    reply = Message.objects.create(
        conversation=conversation, role=Role.ASSISTANT, status=MessageStatus.PENDING, model=model
    )
    return conversation, reply


def wait_until_final(message_id, timeout=20.0) -> Message:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = Message.objects.get(pk=message_id)
        if row.status not in (MessageStatus.PENDING, MessageStatus.STREAMING):
            return row
        time.sleep(0.02)
    raise AssertionError(f"{message_id} still {row.status}")


def wait_for_text(message_id, timeout=10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = eventlog.local_get(message_id)
        if log and eventlog.text_of(log.events):
            return log
        time.sleep(0.01)
    raise AssertionError("no text was published")


def stream_url(base, conversation) -> str:
    return f"{base}/api/v1/conversations/{conversation.pk}/stream"


def collect(base, conversation, headers, **kw) -> list:
    with httpx.stream("GET", stream_url(base, conversation), headers=headers, timeout=20, **kw) as response:
        assert response.status_code == 200, response.read()
        return list(iter_events(response))


def text_of(events) -> str:
    return "".join(e.data["text"] for e in events if e.name in ("snapshot", "delta"))


def test_a_client_watching_from_the_start_gets_every_event_in_order(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "normal:40")
    conversation, reply = exchange(user, model)
    headers = bearer(user)
    with httpx.stream("GET", stream_url(asgi_server, conversation), headers=headers, timeout=20) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        generation.start_generation(message_id=reply.id)
        events = list(iter_events(response))

    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert events[0].name == "message.start"
    assert events[0].data == {"message_id": str(reply.id), "model": model.slug}
    assert {e.name for e in events[1:-1]} == {"delta"}
    assert events[-1].name == "message.done"
    assert events[-1].data == {
        "message_id": str(reply.id),
        "status": "complete",
        "usage": {"prompt_tokens": events[-1].data["usage"]["prompt_tokens"], "completion_tokens": 40},
        "finish_reason": "stop",  # as the upstream said
    }
    # Coalescing: fewer delta events than tokens, and they add up to the reply.
    assert len(events) - 2 < 40
    saved = Message.objects.get(pk=reply.pk)
    assert text_of(events) == saved.content == expected_text(40)
    assert saved.stream_seq == events[-1].id


def test_the_reply_completes_and_is_saved_once_when_the_client_leaves(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "slow:30")
    conversation, reply = exchange(user, model)
    with httpx.stream("GET", stream_url(asgi_server, conversation), headers=bearer(user), timeout=20) as response:
        generation.start_generation(message_id=reply.id)
        first = next(iter_events(response))
        assert first.name == "message.start"
    # The client is gone; the reply is not.
    saved = wait_until_final(reply.id)
    assert saved.status == MessageStatus.COMPLETE
    assert saved.content == expected_text(30)
    assert Message.objects.filter(conversation=conversation, role=Role.ASSISTANT).count() == 1


def test_reconnecting_with_last_event_id_yields_every_later_event_once(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "slow:40")
    conversation, reply = exchange(user, model)
    headers = bearer(user)
    first_part = []
    with httpx.stream("GET", stream_url(asgi_server, conversation), headers=headers, timeout=20) as response:
        generation.start_generation(message_id=reply.id)
        for event in iter_events(response):
            first_part.append(event)
            if event.name == "delta" and len(first_part) >= 3:
                break
    last_id = first_part[-1].id
    time.sleep(0.3)  # events the client misses while away

    second_part = collect(asgi_server, conversation, {**headers, "Last-Event-ID": str(last_id)})

    ids = [e.id for e in first_part + second_part]
    assert ids == list(range(1, len(ids) + 1))
    assert "snapshot" not in {e.name for e in second_part}
    assert second_part[-1].name == "message.done"
    saved = wait_until_final(reply.id)
    assert text_of(first_part + second_part) == saved.content == expected_text(40)


def test_last_event_id_also_works_as_a_query_parameter_after_the_end(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "burst:20")
    conversation, reply = exchange(user, model)
    finish_reply(message_id=reply.id)
    last_id = eventlog.local_get(reply.id).last_id

    events = collect(asgi_server, conversation, bearer(user), params={"last_event_id": 2})

    assert [e.id for e in events] == list(range(3, last_id + 1))
    assert events[-1].name == "message.done"


def test_a_late_joiner_gets_a_snapshot_then_live_deltas(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "slow:40")
    conversation, reply = exchange(user, model)
    generation.start_generation(message_id=reply.id)
    wait_for_text(reply.id)

    events = collect(asgi_server, conversation, bearer(user))

    snapshot = events[0]
    assert snapshot.name == "snapshot"
    assert snapshot.data["text"] and snapshot.data["seq"] == snapshot.id
    assert [e.id for e in events[1:]] == list(range(snapshot.id + 1, snapshot.id + len(events)))
    assert events[-1].name == "message.done"
    assert text_of(events) == Message.objects.get(pk=reply.pk).content == expected_text(40)


def test_with_nothing_in_flight_the_stream_sends_the_final_state_and_closes(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "burst:10")
    conversation, reply = exchange(user, model)
    finish_reply(message_id=reply.id)
    eventlog.local_clear()  # even with the event log gone

    events = collect(asgi_server, conversation, bearer(user))

    assert [e.name for e in events] == ["snapshot", "message.done"]
    assert events[0].data["text"] == expected_text(10)
    assert events[1].data["status"] == "complete"
    assert events[1].id == Message.objects.get(pk=reply.pk).stream_seq


def test_stop_through_the_api_ends_the_stream_with_status_stopped(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "slow:400")
    conversation, reply = exchange(user, model)
    headers = bearer(user)
    with httpx.stream("GET", stream_url(asgi_server, conversation), headers=headers, timeout=20) as response:
        generation.start_generation(message_id=reply.id)
        events = []
        reader = iter_events(response)
        for event in reader:
            events.append(event)
            if event.name == "delta":
                stopped = httpx.post(f"{asgi_server}/api/v1/conversations/{conversation.pk}/stop", headers=headers)
                assert stopped.status_code == 202, stopped.text
                break
        events += list(reader)
    assert events[-1].name == "message.done"
    assert events[-1].data["status"] == "stopped"
    saved = Message.objects.get(pk=reply.pk)
    assert saved.status == MessageStatus.STOPPED
    assert text_of(events) == saved.content
    assert saved.content and saved.content != expected_text(400)


def test_an_upstream_failure_reaches_the_client_as_an_error_event(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "drop:40")
    conversation, reply = exchange(user, model)
    with httpx.stream("GET", stream_url(asgi_server, conversation), headers=bearer(user), timeout=20) as response:
        generation.start_generation(message_id=reply.id)
        events = list(iter_events(response))
    assert [e.name for e in events[-2:]] == ["error", "message.done"]
    assert events[-2].data["code"] == "upstream_unreachable"
    assert events[-1].data["status"] == "error"
    saved = Message.objects.get(pk=reply.pk)
    assert saved.status == MessageStatus.ERROR
    assert text_of(events) == saved.content != ""
    assert Message.objects.get(conversation=conversation, role=Role.USER).content == "Hello"


def test_a_reply_whose_worker_died_is_marked_interrupted_when_someone_watches(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "normal:5")
    conversation, reply = exchange(user, model)
    stale = Message.objects.filter(pk=reply.pk)
    stale.update(status=MessageStatus.STREAMING, content="half an ans", heartbeat_at="2020-01-01T00:00:00Z")

    events = collect(asgi_server, conversation, bearer(user))

    assert [e.name for e in events][-2:] == ["error", "message.done"]
    assert events[-2].data["code"] == "interrupted"
    assert events[-1].data["status"] == "interrupted"
    assert text_of(events) == "half an ans"
    assert Message.objects.get(pk=reply.pk).status == MessageStatus.INTERRUPTED


def test_the_reaper_command_marks_stale_replies_interrupted(user, upstream):  # noqa: F811
    model = make_model(upstream, "normal:5")
    conversation, stale_reply = exchange(user, model)
    _, fresh_reply = exchange(user, model)
    Message.objects.filter(pk=stale_reply.pk).update(status=MessageStatus.STREAMING, heartbeat_at="2020-01-01T00:00Z")
    Message.objects.filter(pk=fresh_reply.pk).update(status=MessageStatus.STREAMING, heartbeat_at=time_now())

    call_command("reap_generations")

    assert Message.objects.get(pk=stale_reply.pk).status == MessageStatus.INTERRUPTED
    assert Message.objects.get(pk=fresh_reply.pk).status == MessageStatus.STREAMING


def time_now():
    from django.utils import timezone

    return timezone.now()


def test_the_stream_refuses_strangers(asgi_server, upstream, user, outsider):  # noqa: F811
    model = make_model(upstream, "normal:5")
    conversation, _ = exchange(user, model)
    url = stream_url(asgi_server, conversation)

    anonymous = httpx.get(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    bad_token = httpx.get(url, headers={"Authorization": "Bearer not-a-token"})
    assert bad_token.status_code == 401
    stranger = httpx.get(url, headers=bearer(outsider))
    assert stranger.status_code == 404
    assert stranger.json() == {"detail": "No Conversation matches the given query.", "code": "not_found"}
    unknown = httpx.get(f"{asgi_server}/api/v1/conversations/{model.pk:08d}-0000-4000-8000-000000000000/stream")
    assert unknown.status_code == 401
    unknown = httpx.get(
        f"{asgi_server}/api/v1/conversations/00000000-0000-4000-8000-000000000000/stream", headers=bearer(user)
    )
    assert unknown.status_code == 404
    bad_resume = httpx.get(url, headers={**bearer(user), "Last-Event-ID": "soon"})
    assert bad_resume.status_code == 400
    assert "last_event_id" in bad_resume.json()
    blank = httpx.get(url, params={"message_id": ""}, headers=bearer(user))
    assert blank.status_code == 400 and "message_id" in blank.json()
    blank = httpx.get(url, params={"last_event_id": ""}, headers=bearer(user))  # the contract run's ST201
    assert blank.status_code == 400 and "last_event_id" in blank.json()


def test_a_message_sent_through_the_api_streams_to_a_listener(asgi_server, upstream, user):  # noqa: F811
    model = make_model(upstream, "normal:25")
    headers = bearer(user)
    created = httpx.post(f"{asgi_server}/api/v1/conversations", json={"model": model.slug}, headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    conversation_id = created.json()["id"]
    sent = httpx.post(
        f"{asgi_server}/api/v1/conversations/{conversation_id}/messages",
        json={"content": "Tell me a story"},
        headers=headers,
        timeout=10,
    )
    assert sent.status_code == 202, sent.text
    reply_id = sent.json()["assistant_message"]["id"]

    with httpx.stream("GET", f"{asgi_server}{sent.json()['stream_url']}", headers=headers, timeout=20) as response:
        events = list(iter_events(response))

    assert events[-1].name == "message.done" and events[-1].data["message_id"] == reply_id
    saved = Message.objects.get(pk=reply_id)
    assert saved.status == MessageStatus.COMPLETE
    assert text_of(events) == saved.content == expected_text(25)
