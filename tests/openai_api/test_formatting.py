"""OpenAI's response objects as this server writes them (``openai_api/formatting.py``), and the
stream the view makes of a reply's events (``views._stream``/``_whole`` on a stand-in listener): ids,
``created``, ``finish_reason``, the usage chunk and ``[DONE]``. No server, no database."""

import json
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from conversations.models import MessageStatus
from conversations.streaming.events import Delta, Done, Error, Event, EventName, Snapshot, Start, TokenUsage
from openai_api import views
from openai_api.formatting import Completion, finish_reason, model_list, usage

REPLY_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def _done(*, status=MessageStatus.COMPLETE, finish="stop", prompt=11, completion=7) -> Done:
    return Done(message_id=str(REPLY_ID), status=status, usage=TokenUsage(prompt, completion), finish_reason=finish)


def _data(chunk: bytes) -> dict:
    """The JSON of one ``data:`` event, checking its framing."""
    assert chunk.startswith(b"data: ")
    assert chunk.endswith(b"\n\n")
    assert chunk.count(b"\n") == 2  # one event, one line
    return json.loads(chunk[len(b"data: ") :])


# --- formatting -----------------------------------------------------------------------------


def test_a_completions_id_is_its_replys_and_created_is_now_in_seconds():
    before = int(time.time())
    completion = Completion(reply_id=REPLY_ID, model="fast")
    assert completion.id == "chatcmpl-12345678123456781234567812345678"
    assert before <= completion.created <= int(time.time())
    assert isinstance(completion.created, int)


def test_every_chunk_of_a_completion_carries_its_id_created_and_model():
    completion = Completion(reply_id=REPLY_ID, model="fast")
    chunks = [
        _data(completion.chunk(role="assistant", content="")),
        _data(completion.chunk(content="Hel")),
        _data(completion.chunk(finish="stop")),
    ]
    for chunk in chunks:
        assert chunk["id"] == completion.id
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["created"] == completion.created
        assert chunk["model"] == "fast"
        assert chunk["system_fingerprint"] is None
        assert "usage" not in chunk  # only with stream_options.include_usage
    assert [c["choices"] for c in chunks] == [
        [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}],
        [{"index": 0, "delta": {"content": "Hel"}, "logprobs": None, "finish_reason": None}],
        [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}],
    ]


def test_a_chunk_is_compact_json_with_text_as_is():
    chunk = Completion(reply_id=REPLY_ID, model="fast").chunk(content="héllo, 世界\n")
    assert b", " not in chunk.split(b'"content":')[0]  # compact separators
    assert "héllo, 世界".encode() in chunk  # UTF-8, not \u escapes
    assert _data(chunk)["choices"][0]["delta"]["content"] == "héllo, 世界\n"


def test_with_include_usage_chunks_say_null_and_the_last_one_has_the_usage():
    completion = Completion(reply_id=REPLY_ID, model="fast", include_usage=True)
    assert _data(completion.chunk(content="Hi"))["usage"] is None
    last = _data(completion.usage_chunk(_done(prompt=11, completion=7)))
    assert last["choices"] == []
    assert last["usage"] == {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    assert last["id"] == completion.id


@pytest.mark.parametrize(
    ("upstream", "expected"),
    [
        ("length", "length"),
        ("stop", "stop"),
        ("", "stop"),
        ("content_filter", "content_filter"),
        ("tool_calls", "tool_calls"),
        ("eos", "stop"),
    ],
)
def test_finish_reason_is_what_the_upstream_said_in_openais_words(upstream, expected):
    assert finish_reason(_done(finish=upstream)) == expected


def test_usage_adds_the_total():
    assert usage(_done(prompt=0, completion=0)) == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    assert usage(_done(prompt=3, completion=4))["total_tokens"] == 7


def test_a_whole_completion_is_openais_chat_completion():
    completion = Completion(reply_id=REPLY_ID, model="fast", include_usage=True)
    body = completion.whole("Hello there", _done(finish="length", prompt=5, completion=2))
    assert body == {
        "id": "chatcmpl-12345678123456781234567812345678",
        "object": "chat.completion",
        "created": completion.created,
        "model": "fast",
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello there", "refusal": None},
                "logprobs": None,
                "finish_reason": "length",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


def test_an_error_after_the_stream_began_is_an_error_event():
    error = {"message": "It failed.", "type": "server_error", "param": None, "code": "upstream_timeout"}
    assert _data(Completion.error_chunk(error)) == {"error": error}


def test_the_model_list_names_each_model_by_its_slug():
    models = [
        SimpleNamespace(slug="fast", created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), capabilities=["vision"]),
        SimpleNamespace(slug="big", created_at=datetime(2026, 2, 1, tzinfo=UTC), capabilities=[]),
    ]
    assert model_list(models) == {
        "object": "list",
        "data": [
            {"id": "fast", "object": "model", "created": 1767323045, "owned_by": "system", "capabilities": ["vision"]},
            {"id": "big", "object": "model", "created": 1769904000, "owned_by": "system", "capabilities": []},
        ],
    }
    assert model_list([]) == {"object": "list", "data": []}


# --- the stream and the whole answer, as the view makes them --------------------------------


class _Follower:
    """A listener that replays given events (None is a keep-alive tick)."""

    def __init__(self, *events):
        self._events = events

    async def events(self):
        for event in self._events:
            yield event


def _events(*items) -> list:
    payloads = {
        EventName.START: lambda: Start(message_id=str(REPLY_ID), model="fast"),
        EventName.DELTA: lambda text: Delta(message_id=str(REPLY_ID), text=text),
        EventName.SNAPSHOT: lambda text: Snapshot(message_id=str(REPLY_ID), text=text, seq=1),
        EventName.ERROR: lambda code: Error(message_id=str(REPLY_ID), code=code, message="The upstream timed out."),
    }
    out = []
    for seq, item in enumerate(items, start=1):
        if item is None or isinstance(item, Done):
            out.append(None if item is None else Event(seq, EventName.DONE, item))
        else:
            name, *args = item
            name = EventName(name)
            out.append(Event(seq, name, payloads[name](*args)))
    return out


@pytest.fixture
def stops(monkeypatch):
    """The reply ids the view asked to stop (a client gone before the end)."""
    asked = []
    monkeypatch.setattr(views.generation, "request_stop", lambda *, message_id: asked.append(message_id))
    return asked


async def _streamed(completion, *events) -> list[bytes]:
    return [chunk async for chunk in views._stream(_Follower(*events), completion, REPLY_ID)]


async def test_a_stream_is_role_content_finish_usage_then_done(stops):
    completion = Completion(reply_id=REPLY_ID, model="fast", include_usage=True)
    events = _events((EventName.START,), ("delta", "Hel"), None, ("delta", "lo"), _done(finish="length"))
    chunks = await _streamed(completion, *events)
    assert chunks[2] == b": keep-alive\n\n"  # a comment, which SSE parsers skip
    assert chunks[-1] == b"data: [DONE]\n\n"
    data = [_data(chunk) for chunk in chunks if chunk not in (b": keep-alive\n\n", b"data: [DONE]\n\n")]
    assert [d["choices"][0]["delta"] if d["choices"] else None for d in data] == [
        {"role": "assistant", "content": ""},
        {"content": "Hel"},
        {"content": "lo"},
        {},
        None,
    ]
    assert [d["choices"][0]["finish_reason"] if d["choices"] else None for d in data] == [
        None,
        None,
        None,
        "length",
        None,
    ]
    assert data[-1]["usage"] == {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    assert {d["id"] for d in data} == {completion.id}
    assert stops == []  # the reply ended: nothing to stop


async def test_without_include_usage_there_is_no_usage_chunk(stops):
    completion = Completion(reply_id=REPLY_ID, model="fast")
    chunks = await _streamed(completion, *_events(("delta", "Hi"), _done()))
    assert chunks[-1] == b"data: [DONE]\n\n"
    finish = _data(chunks[-2])
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert "usage" not in finish
    assert len(chunks) == 4  # role, content, finish, [DONE]


async def test_a_snapshot_adds_only_its_new_end(stops):
    completion = Completion(reply_id=REPLY_ID, model="fast")
    chunks = await _streamed(completion, *_events(("delta", "Hel"), ("snapshot", "Hello"), _done()))
    contents = [_data(c)["choices"][0]["delta"].get("content") for c in chunks[:-2]]
    assert contents == ["", "Hel", "lo"]


async def test_a_reply_that_failed_ends_the_stream_with_an_error_and_no_done(stops):
    completion = Completion(reply_id=REPLY_ID, model="fast")
    events = _events(("delta", "Hel"), ("error", "upstream_timeout"), _done(status=MessageStatus.ERROR))
    chunks = await _streamed(completion, *events)
    assert b"data: [DONE]\n\n" not in chunks
    assert _data(chunks[-1]) == {
        "error": {
            "message": "The upstream timed out.",
            "type": "server_error",
            "param": None,
            "code": "upstream_timeout",
        }
    }
    assert stops == []


async def test_a_stream_cut_before_the_end_says_interrupted_and_stops_the_reply(stops):
    completion = Completion(reply_id=REPLY_ID, model="fast")
    chunks = await _streamed(completion, *_events(("delta", "Hel")))
    assert _data(chunks[-1])["error"]["code"] == "interrupted"
    assert b"data: [DONE]\n\n" not in chunks
    assert stops == [REPLY_ID]  # nobody is following it any more


async def test_a_client_gone_mid_stream_stops_the_reply(stops):
    completion = Completion(reply_id=REPLY_ID, model="fast")
    stream = views._stream(_Follower(*_events(("delta", "Hel"), ("delta", "lo"), _done())), completion, REPLY_ID)
    await stream.__anext__()  # the role chunk
    await stream.__anext__()  # "Hel"
    await stream.aclose()  # the client went away
    assert stops == [REPLY_ID]


async def test_the_whole_answer_is_the_text_of_every_event(stops):
    completion = Completion(reply_id=REPLY_ID, model="fast")
    follower = _Follower(*_events(("delta", "Hel"), None, ("delta", "lo"), _done(prompt=2, completion=3)))
    response = await views._whole(follower, completion, REPLY_ID)
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["choices"][0]["message"]["content"] == "Hello"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["total_tokens"] == 5
    assert stops == []


@pytest.mark.parametrize(("code", "status"), [("upstream_timeout", 503), ("upstream_auth", 502)])
async def test_a_whole_answer_that_failed_is_openais_error(stops, code, status):
    completion = Completion(reply_id=REPLY_ID, model="fast")
    follower = _Follower(*_events(("error", code), _done(status=MessageStatus.ERROR)))
    response = await views._whole(follower, completion, REPLY_ID)
    assert response.status_code == status
    assert json.loads(response.content)["error"]["code"] == code


async def test_a_stopped_reply_is_no_completion(stops):
    # A reply stopped before its end (by the reaper, or from the app) did not complete: a retry may.
    completion = Completion(reply_id=REPLY_ID, model="fast")
    response = await views._whole(_Follower(*_events(_done(status=MessageStatus.STOPPED))), completion, REPLY_ID)
    assert response.status_code == 503
    assert json.loads(response.content)["error"]["code"] == "interrupted"
