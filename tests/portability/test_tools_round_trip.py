"""A reply's tool calls and notices in the exports (JSON in full, Markdown for people) and back
through POST /imports: the same calls, notices and web sources; bad ones refused by name."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from conversations.models import Conversation, Message
from portability import documents
from portability.data import EntryError
from tests.conversations.factories import ConversationFactory, LLMModelFactory
from tools.models import ToolServer

from .conftest import IMPORTS

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
PRIVATE_RESULT = "PAYROLL: 42 employees"
TOOL_CALLS = [
    {
        "id": "call_0_a",
        "type": "function",
        "function": {"name": "weather__forecast", "arguments": '{"city": "Seoul"}'},
        "server": "weather",
        "name": "forecast",
        "arguments": {"city": "Seoul", "days": [1, 2], "metric": True},
        "status": "ok",
        "result": "Sunny ```not a fence``` 21 C",
        "truncated": False,
        "error": "",
        "offset": 0,
        "duration_ms": 34,
    },
    {
        "id": "call_0_b",
        "type": "function",
        "function": {"name": "vault__lookup", "arguments": '{"key": "payroll"}'},
        "server": "vault",
        "name": "lookup",
        "arguments": {"key": "payroll"},
        "status": "ok",
        "result": PRIVATE_RESULT,
        "truncated": True,
        "error": "",
        "offset": 7,
        "duration_ms": 12,
        "private": True,
    },
    {
        "id": "call_1_a",
        "type": "function",
        "function": {"name": "web_search", "arguments": '{"query": "news"}'},
        "server": "web_search",
        "name": "web_search",
        "arguments": {"query": "news"},
        "status": "timeout",
        "result": "",
        "truncated": False,
        "error": "The tool did not answer within 20 seconds.",
        "offset": 7,
        "duration_ms": 20000,
    },
]
NOTICES = [{"code": "tool_rounds_exhausted", "message": "The reply used its 5 rounds of tools."}]
SOURCES = [
    {
        "n": 1,
        "kind": "web",
        "id": "",
        "url": "https://news.example/a?b=1",
        "title": "News",
        "snippet": "s",
        "page": None,
    }
]


@pytest.fixture
def conversation(user):
    ToolServer.objects.create(name="vault", url="https://vault.example/mcp", private=True)
    model = LLMModelFactory(slug="tools-model")
    conversation = ConversationFactory(owner=user, title="Tools", model=model)
    question = Message.objects.create(
        conversation=conversation, role="user", content="Weather and payroll?", created_at=START
    )
    reply = Message.objects.create(
        conversation=conversation,
        parent=question,
        depth=1,
        role="assistant",
        content="Sunny. 42 people [1].",
        model=model,
        tool_calls=TOOL_CALLS,
        notices=NOTICES,
        sources=SOURCES,
        created_at=START + timedelta(seconds=1),
    )
    Conversation.objects.filter(pk=conversation.pk).update(current_message=reply)
    return conversation


def _export(client, conversation, fmt="json"):
    response = client.get(f"/api/v1/conversations/{conversation.pk}/export?format={fmt}")
    assert response.status_code == 200
    return response.content.decode()


def _import(client, upload, document: dict) -> dict:
    body = upload(client, json.dumps(document).encode()).json()
    return client.get(f"{IMPORTS}/{body['id']}").json()


def test_the_json_export_keeps_every_call_and_notice_in_full(user_client, conversation):
    document = json.loads(_export(user_client, conversation))
    question, reply = document["messages"]
    assert reply["tool_calls"] == TOOL_CALLS  # a private server's result too: the export is its owner's
    assert reply["notices"] == NOTICES
    assert reply["sources"] == SOURCES
    assert (question["tool_calls"], question["notices"]) == ([], [])


def test_export_then_import_round_trips_the_calls_notices_and_web_sources(
    user_client, conversation, outsider, outsider_client, upload
):
    document = json.loads(_export(user_client, conversation))
    done = _import(outsider_client, upload, document)
    assert (done["status"], done["errors"], done["conversations_imported"]) == ("done", [], 1)
    copy = Conversation.objects.get(owner=outsider)
    reply = copy.messages.get(role="assistant")
    assert reply.tool_calls == TOOL_CALLS
    assert reply.notices == NOTICES
    assert reply.sources == SOURCES
    assert copy.messages.get(role="user").tool_calls == []
    # And out again, the same document's messages.
    again = json.loads(_export(outsider_client, copy))
    assert [m["tool_calls"] for m in again["messages"]] == [[], TOOL_CALLS]
    assert [m["notices"] for m in again["messages"]] == [[], NOTICES]
    shown = outsider_client.get(f"/api/v1/conversations/{copy.pk}/messages").json()
    shown = shown.get("results", shown)
    assert [call["status"] for call in shown[-1]["tool_calls"]] == ["ok", "ok", "timeout"]


def test_the_markdown_shows_each_call_readably(user_client, conversation):
    text = _export(user_client, conversation, "markdown")
    assert "**Tool call 1: weather · forecast (done)**" in text
    assert "**Tool call 2: vault · lookup (done)**" in text
    assert "**Tool call 3: web\\_search (timed out)**" in text
    # Arguments as JSON, each result in a fence no backticks inside it can close.
    assert '```json\n{\n  "city": "Seoul",\n  "days": [\n    1,\n    2\n  ],\n  "metric": true\n}\n```' in text
    assert "````text\nSunny ```not a fence``` 21 C\n````" in text
    assert "Result (cut at its size limit):\n\n```text\nPAYROLL: 42 employees\n```" in text
    assert "Error:\n\n```text\nThe tool did not answer within 20 seconds.\n```" in text
    assert "*Note:* The reply used its 5 rounds of tools." in text
    assert "1. News <https://news.example/a?b=1>" in text
    # The calls come before the text the reply wrote from them.
    assert text.index("Tool call 1") < text.index("Sunny. 42 people")


def test_the_markdown_speaks_korean(user_client, conversation):
    text = user_client.get(
        f"/api/v1/conversations/{conversation.pk}/export?format=markdown", HTTP_ACCEPT_LANGUAGE="ko"
    ).content.decode()
    assert "도구 호출 1: weather · forecast (완료)" in text and "인수:" in text and "결과:" in text


def _document(**reply) -> dict:
    return {
        "format": "chat-server.conversation",
        "version": 1,
        "id": "d6b1c0de-0000-4000-8000-000000000001",
        "title": "Imported",
        "messages": [
            {"id": "q", "parent_id": None, "role": "user", "content": "Hi"},
            {"id": "a", "parent_id": "q", "role": "assistant", "content": "Hello", **reply},
        ],
    }


def test_an_import_keeps_known_fields_typed_and_capped(outsider, outsider_client, upload):
    long_result = "x" * (documents.TOOL_RESULT_MAX_CHARS + 10)
    calls = [
        {
            "id": "call_9",
            "server": "weather",
            "name": "forecast",
            "arguments": {"city": "Se\u0000oul", "nested": {"k\u0000": ["a\u0000"]}},
            "status": "running",
            "result": long_result,
            "truncated": False,
            "unknown": "dropped",
        },
        {"id": "call_api", "type": "function", "function": {"name": "lookup", "arguments": "{}"}, "extra": 1},
    ]
    notices = [{"code": "tool_limit_reached", "message": "Limit.", "extra": True}]
    done = _import(outsider_client, upload, _document(tool_calls=calls, notices=notices))
    assert (done["status"], done["errors"]) == ("done", [])
    reply = Message.objects.get(conversation__owner=outsider, role="assistant")
    assert reply.tool_calls == [
        {
            "id": "call_9",
            "type": "function",
            "function": {"name": "weather__forecast", "arguments": '{"city": "Seoul", "nested": {"k": ["a"]}}'},
            "server": "weather",
            "name": "forecast",
            "arguments": {"city": "Seoul", "nested": {"k": ["a"]}},
            "status": "interrupted",  # it cannot go on running after an import
            "result": "x" * documents.TOOL_RESULT_MAX_CHARS,
            "truncated": True,
        },
        {"id": "call_api", "type": "function", "function": {"name": "lookup", "arguments": "{}"}},
    ]
    assert reply.notices == [{"code": "tool_limit_reached", "message": "Limit."}]


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        ({"tool_calls": {"id": "x"}}, "message 1's tool calls must be a list"),
        ({"tool_calls": ["call"]}, "message 1's tool call 1 is not an object"),
        ({"tool_calls": [{"id": "c", "name": "t", "arguments": "{}"}]}, "'arguments' must be an object"),
        ({"tool_calls": [{"id": "c", "name": "t", "status": "exploded"}]}, "unknown status 'exploded'"),
        ({"tool_calls": [{"id": "c", "name": "t", "truncated": "yes"}]}, "'truncated' must be true or false"),
        ({"tool_calls": [{"id": "c", "name": "t", "offset": -1}]}, "'offset' must be null or a whole number"),
        ({"tool_calls": [{"id": "c", "name": "t", "result": 42}]}, "message 1's tool call 1 result must be a string"),
        ({"tool_calls": [{"id": "c", "name": 7}]}, "message 1's tool call 1 name must be a string"),
        ({"tool_calls": [{"id": "c", "function": "f"}]}, "'function' must be an object"),
        ({"tool_calls": [{"name": "t"}]}, "message 1's tool call 1 has no 'id'"),
        ({"tool_calls": [{"id": "c", "status": "ok"}]}, "message 1's tool call 1 names no function"),
        ({"tool_calls": [{"id": "c", "name": "t", "arguments": {"a": "x" * 100_001}}]}, "'arguments' is too long"),
        ({"notices": "late"}, "message 1's notices must be a list"),
        ({"notices": [1]}, "message 1's notice 1 is not an object"),
        ({"notices": [{"code": 5}]}, "message 1's notice 1 code must be a string"),
    ],
)
def test_bad_calls_or_notices_fail_their_conversation_by_name(outsider, outsider_client, upload, reply, said):
    response = upload(outsider_client, json.dumps(_document(**reply)).encode())
    assert response.status_code == 202  # the file is read by the job: each conversation fails alone
    done = outsider_client.get(f"{IMPORTS}/{response.json()['id']}").json()
    assert (done["status"], done["conversations_failed"], done["conversations_imported"]) == ("done", 1, 0)
    assert said in done["errors"][0]["error"], done["errors"]
    assert not Conversation.objects.filter(owner=outsider).exists()
    with pytest.raises(EntryError, match="message 1"):
        documents.conversation_from_document(_document(**reply))


def test_a_document_without_calls_reads_as_having_none(outsider, outsider_client, upload):
    done = _import(outsider_client, upload, _document())
    assert (done["status"], done["conversations_imported"]) == ("done", 1)
    reply = Message.objects.get(conversation__owner=outsider, role="assistant")
    assert (reply.tool_calls, reply.notices) == ([], [])


def test_an_imported_web_source_keeps_only_a_safe_address(outsider, outsider_client, upload):
    sources = [
        {"n": 1, "kind": "web", "id": "", "url": "javascript:alert(1)", "title": "Bad", "snippet": "", "page": None},
        {"n": 2, "kind": "web", "id": "", "url": "https://ok.example/", "title": "Ok", "snippet": "", "page": None},
    ]
    _import(outsider_client, upload, _document(sources=sources))
    reply = Message.objects.get(conversation__owner=outsider, role="assistant")
    assert [source["url"] for source in reply.sources] == ["", "https://ok.example/"]


def test_a_chats_enabled_tools_go_out_and_come_back_when_the_importer_may_use_them(
    user_client, conversation, outsider, outsider_client, upload
):
    ToolServer.objects.get_or_create(name="weather", defaults={"url": "http://127.0.0.1:9/mcp"})
    Conversation.objects.filter(pk=conversation.pk).update(tools=["weather", "gone"])
    document = json.loads(_export(user_client, conversation))
    assert document["tools"] == ["weather", "gone"]
    done = _import(outsider_client, upload, document)
    assert (done["status"], done["errors"]) == ("done", [])
    # "gone" is no tool of this server: only what the importer may enable comes back.
    assert Conversation.objects.get(owner=outsider).tools == ["weather"]
    document["tools"] = "weather"
    done = _import(outsider_client, upload, document)
    assert done["conversations_failed"] == 1 and "tools" in done["errors"][0]["error"]
