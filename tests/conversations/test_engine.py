"""The generation engine against a real OpenAI-compatible server (tests.conversations.upstream)."""

import pytest

from conversations import generation
from conversations.models import Conversation, LLMModel, Message, MessageStatus, Role
from conversations.streaming import eventlog
from tests.conversations.replies import background_statements, finish_reply
from tests.conversations.upstream import expected_text, upstream  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def make_model(upstream, mode: str, slug: str | None = None) -> LLMModel:  # noqa: F811
    return LLMModel.objects.create(
        slug=slug or mode.replace(":", "-").replace(".", "-"),
        display_name=mode,
        provider="openai",
        upstream_model=mode,
        base_url=upstream.base_url,
        request_timeout_seconds=2.0,
        context_window=4096,
        max_output_tokens=4000,
    )


def make_exchange(owner, model, question: str = "Hello there") -> tuple[Conversation, Message, Message]:
    conversation = Conversation.objects.create(owner=owner, model=model)
    asked = Message.objects.create(conversation=conversation, role=Role.USER, content=question, model=model)
    reply = Message.objects.create(
        conversation=conversation, parent=asked, role=Role.ASSISTANT, status=MessageStatus.PENDING, model=model
    )
    return conversation, asked, reply


def test_a_reply_saves_its_whole_text_and_usage(user, upstream):  # noqa: F811
    model = make_model(upstream, "normal:12")
    conversation, _, reply = make_exchange(user, model)

    finish_reply(message_id=reply.id)

    reply.refresh_from_db()
    assert reply.status == MessageStatus.COMPLETE
    assert reply.content == expected_text(12)
    assert reply.completion_tokens == 12
    assert reply.prompt_tokens > 0
    assert reply.latency_ms is not None and reply.duration_ms >= reply.latency_ms
    assert reply.finished_at is not None
    # The engine titles an untitled conversation after its first reply.
    conversation.refresh_from_db()
    assert conversation.title == "Hello there"
    # The event log: start, deltas whose text adds up to the reply, done.
    events = eventlog.local_get(reply.id).events
    names = [e.name.value for e in events]
    assert names[0] == "message.start" and names[-1] == "message.done"
    assert [e.id for e in events] == list(range(1, len(names) + 1))
    assert eventlog.text_of(events) == reply.content
    assert reply.stream_seq == events[-1].id


def test_history_is_sent_oldest_first_with_the_system_prompt(user, upstream):  # noqa: F811
    model = make_model(upstream, "burst:3")
    conversation = Conversation.objects.create(owner=user, model=model, system_prompt="Be brief.")
    first = Message.objects.create(conversation=conversation, role=Role.USER, content="first question")
    answer = Message.objects.create(
        conversation=conversation, parent=first, role=Role.ASSISTANT, content="first answer"
    )
    # Another version of the first answer (regenerated): not on the reply's path, never sent.
    Message.objects.create(conversation=conversation, parent=first, role=Role.ASSISTANT, content="other version")
    second = Message.objects.create(conversation=conversation, parent=answer, role=Role.USER, content="second question")
    reply = Message.objects.create(
        conversation=conversation, parent=second, role=Role.ASSISTANT, status=MessageStatus.PENDING
    )
    before = len(upstream.requests)

    finish_reply(message_id=reply.id)

    sent = upstream.requests[before]["messages"]
    assert sent == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "second question"},
    ]


@pytest.mark.parametrize(
    ("mode", "code", "kept_some_text"),
    [
        ("http500:10", "upstream_error", False),
        ("drop:40", "upstream_unreachable", True),
        ("malformed:40", "upstream_bad_response", True),
        ("timeout:5", "upstream_timeout", False),
    ],
)
def test_upstream_failures_end_in_error_keeping_the_question_and_the_text(user, upstream, mode, code, kept_some_text):  # noqa: F811
    model = make_model(upstream, mode)
    model.request_timeout_seconds = 0.5
    model.save()
    _, asked, reply = make_exchange(user, model)

    finish_reply(message_id=reply.id)

    reply.refresh_from_db()
    assert reply.status == MessageStatus.ERROR
    assert reply.error_code == code
    assert reply.error
    assert (reply.content != "") is kept_some_text
    if kept_some_text:
        assert expected_text(40).startswith(reply.content)
    assert Message.objects.get(pk=asked.pk).content == "Hello there"
    names = [e.name.value for e in eventlog.local_get(reply.id).events]
    assert names[-2:] == ["error", "message.done"]


def test_a_failure_before_the_first_token_is_retried(user, upstream):  # noqa: F811
    model = make_model(upstream, "flaky500:5")
    _, _, reply = make_exchange(user, model, question="flaky question")
    before = len(upstream.requests)

    finish_reply(message_id=reply.id)

    reply.refresh_from_db()
    assert reply.status == MessageStatus.COMPLETE
    assert reply.content == expected_text(5)
    assert len(upstream.requests) - before == 2


def _writes(statements) -> list[str]:
    return [sql for sql in statements if sql.lstrip().upper().startswith(("INSERT", "UPDATE"))]


def test_database_writes_do_not_depend_on_the_reply_length(user, upstream, settings):  # noqa: F811
    # Checkpoints are time-based; the burst replies below take well under this.
    settings.CHAT = {**settings.CHAT, "CHECKPOINT_SECONDS": 30.0}
    counts = {}
    for tokens in (100, 2000):
        model = make_model(upstream, f"burst:{tokens}")
        _, _, reply = make_exchange(user, model)
        with background_statements() as captured:
            finish_reply(message_id=reply.id)
        reply.refresh_from_db()
        assert reply.content == expected_text(tokens)
        counts[tokens] = len(_writes(captured))
    assert counts[100] == counts[2000]
    # Claim, finalise (the reply, then its ledger entry, in one transaction), title.
    assert counts[100] == 4


def test_a_stop_request_ends_the_reply_as_stopped_keeping_its_text(user, upstream):  # noqa: F811
    import threading
    import time

    model = make_model(upstream, "slow:200")
    _, _, reply = make_exchange(user, model)
    generation.start_generation(message_id=reply.id)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = Message.objects.get(pk=reply.pk)
        log = eventlog.local_get(reply.id)
        if log and eventlog.text_of(log.events):
            break
        time.sleep(0.02)
    assert threading.active_count() > 1

    assert generation.request_stop(message_id=reply.id) is True

    row = Message.objects.get(pk=reply.pk)
    assert row.status == MessageStatus.STOPPED
    assert row.content and expected_text(200).startswith(row.content)
    assert row.content != expected_text(200)
    assert generation.request_stop(message_id=reply.id) is False


def test_stopping_a_reply_nobody_started_marks_it_stopped(user, upstream):  # noqa: F811
    model = make_model(upstream, "normal:3")
    _, _, reply = make_exchange(user, model)

    assert generation.request_stop(message_id=reply.id) is True

    assert Message.objects.get(pk=reply.pk).status == MessageStatus.STOPPED
    finish_reply(message_id=reply.id)  # a late worker does not resurrect it
    assert Message.objects.get(pk=reply.pk).status == MessageStatus.STOPPED


def test_every_reply_in_flight_is_checkpointed_in_one_statement(user, upstream):  # noqa: F811
    from conversations.generation import rows

    model = make_model(upstream, "burst:3")
    replies = [make_exchange(user, model)[2] for _ in range(5)]
    Message.objects.filter(pk__in=[r.pk for r in replies]).update(status=MessageStatus.STREAMING)
    Message.objects.filter(pk=replies[2].pk).update(status=MessageStatus.STOPPED)  # stopped meanwhile
    checkpoints = [(str(r.pk), f"text of {i}", 20_000 + i) for i, r in enumerate(replies)]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        lost = rows.replies_checkpoint(checkpoints=checkpoints)
    assert lost == {str(replies[2].pk)}
    updates = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1  # one for all; the one SELECT that finds the lost one comes after
    for i, reply in enumerate(replies):
        row = Message.objects.get(pk=reply.pk)
        if i == 2:
            assert row.content == "" and row.status == MessageStatus.STOPPED
        else:
            assert (row.content, row.stream_seq) == (f"text of {i}", 20_000 + i)
    # All still streaming: the update alone.
    with CaptureQueriesContext(connection) as captured:
        assert rows.replies_checkpoint(checkpoints=[c for i, c in enumerate(checkpoints) if i != 2]) == set()
    assert len(captured.captured_queries) == 1
