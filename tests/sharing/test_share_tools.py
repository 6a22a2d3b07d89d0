"""A share shows the tools a reply called and its web sources, never what a private tool server
returned: in the public JSON, on the public page, in a sample, and in a clone of the share."""

import json
import re

import pytest
from django.test import Client

from conversations.models import Conversation, Message, Role
from sharing import services
from sharing.models import Share
from tools.models import ToolServer

from .factories import MessageFactory, conversation_with_messages

pytestmark = pytest.mark.django_db

# What must never leave the owner's conversation once its server is private (or its call says so).
VAULT_RESULT = "VAULT-RAW-RESULT-7f3a"
VAULT_ERROR = "VAULT-ERROR-TEXT-91c2"
FLAGGED_RESULT = "FLAGGED-PRIVATE-RESULT-55d0"
WEATHER_RESULT = "WEATHER-RESULT: sunny, 21 C"
SEARCH_RESULT = "[1] Seoul news - https://news.example/seoul"
API_CALL_NAME = "API-OWN-FUNCTION"
WEB_URL = "https://news.example/seoul?a=1&b=<2>"

TOOL_CALLS = [
    {
        "id": "call_0_a",
        "type": "function",
        "function": {"name": "weather__forecast", "arguments": '{"city": "Seoul"}'},
        "server": "weather",
        "name": "forecast",
        "arguments": {"city": "Seoul"},
        "status": "ok",
        "result": WEATHER_RESULT,
        "truncated": True,
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
        "result": VAULT_RESULT,
        "truncated": False,
        "error": "",
        "offset": 0,
        "duration_ms": 12,
    },
    {
        "id": "call_1_a",
        "type": "function",
        "function": {"name": "vault__lookup", "arguments": '{"key": "bonus"}'},
        "server": "vault",
        "name": "lookup",
        "arguments": {"key": "bonus"},
        "status": "error",
        "result": "",
        "truncated": False,
        "error": VAULT_ERROR,
        "offset": 5,
        "duration_ms": 3,
    },
    {  # a server no longer private (or gone), whose call was made while it was: hidden too
        "id": "call_1_b",
        "server": "notes",
        "name": "read",
        "arguments": {"page": 2},
        "status": "ok",
        "result": FLAGGED_RESULT,
        "truncated": False,
        "error": "",
        "offset": 5,
        "private": True,
    },
    {
        "id": "call_2_a",
        "type": "function",
        "function": {"name": "web_search", "arguments": '{"query": "Seoul news"}'},
        "server": "web_search",
        "name": "web_search",
        "arguments": {"query": "Seoul news"},
        "status": "ok",
        "result": SEARCH_RESULT,
        "truncated": False,
        "error": "",
        "offset": 12,
        "duration_ms": 80,
    },
    # An OpenAI-compatible request's own call (no status): not the server's, never shown.
    {"id": "call_api", "type": "function", "function": {"name": API_CALL_NAME, "arguments": "{}"}},
]
SOURCES = [
    {"n": 1, "kind": "file", "id": "3d9e2d52-0000-0000-0000-000000000000", "title": "a.pdf", "snippet": "x", "page": 2},
    {
        "n": 2,
        "kind": "web",
        "id": "",
        "url": WEB_URL,
        "title": "Seoul <news>",
        "snippet": "Today in Seoul",
        "page": None,
    },
    {"n": 3, "kind": "web", "id": "", "url": "javascript:alert(1)", "title": "Bad link", "snippet": "no", "page": None},
]
NOTICES = [
    {"code": "tool_server_unavailable", "message": "The tool server maps did not answer; its tools were left out."}
]

SHOWN_CALLS = [
    {
        "id": "call_0_a",
        "server": "weather",
        "name": "forecast",
        "arguments": {"city": "Seoul"},
        "status": "ok",
        "result": WEATHER_RESULT,
        "result_hidden": False,
        "error": "",
        "truncated": True,
        "offset": 0,
    },
    {
        "id": "call_0_b",
        "server": "vault",
        "name": "lookup",
        "arguments": {"key": "payroll"},
        "status": "ok",
        "result": None,
        "result_hidden": True,
        "error": "",
        "truncated": False,
        "offset": 0,
    },
    {
        "id": "call_1_a",
        "server": "vault",
        "name": "lookup",
        "arguments": {"key": "bonus"},
        "status": "error",
        "result": None,
        "result_hidden": True,
        "error": "",
        "truncated": False,
        "offset": 5,
    },
    {
        "id": "call_1_b",
        "server": "notes",
        "name": "read",
        "arguments": {"page": 2},
        "status": "ok",
        "result": None,
        "result_hidden": True,
        "error": "",
        "truncated": False,
        "offset": 5,
    },
    {
        "id": "call_2_a",
        "server": "web_search",
        "name": "web_search",
        "arguments": {"query": "Seoul news"},
        "status": "ok",
        "result": SEARCH_RESULT,
        "result_hidden": False,
        "error": "",
        "truncated": False,
        "offset": 12,
    },
]
SECRETS = (VAULT_RESULT, VAULT_ERROR, FLAGGED_RESULT, API_CALL_NAME, "javascript:")


@pytest.fixture
def servers(db):
    ToolServer.objects.create(name="weather", url="https://weather.example/mcp", private=False)
    ToolServer.objects.create(name="vault", url="https://vault.example/mcp", private=True)


@pytest.fixture
def conversation(user, servers):
    conversation = conversation_with_messages(owner=user, pairs=[("Weather and news in Seoul?", "Sunny. News [2].")])
    Message.objects.filter(conversation=conversation, role=Role.ASSISTANT).update(
        tool_calls=TOOL_CALLS, sources=SOURCES, notices=NOTICES
    )
    return conversation


@pytest.fixture
def share(user_client, conversation):
    response = user_client.post("/api/v1/shares", {"conversation_id": str(conversation.pk)})
    assert response.status_code == 201, response.content
    return Share.objects.get(pk=response.json()["id"])


def _reply(body: dict) -> dict:
    return next(m for m in body["messages"] if m["role"] == "assistant")


def test_the_public_share_shows_the_calls_web_sources_and_notices(api_client, share):
    response = api_client.get(f"/api/v1/shares/{share.pk}")
    assert response.status_code == 200
    reply = _reply(response.json())
    assert reply["tool_calls"] == SHOWN_CALLS
    assert reply["sources"] == [
        {"n": 1, "kind": "file", "title": "a.pdf", "snippet": "x", "page": 2},
        {"n": 2, "kind": "web", "url": WEB_URL, "title": "Seoul <news>", "snippet": "Today in Seoul", "page": None},
        {"n": 3, "kind": "web", "url": "", "title": "Bad link", "snippet": "no", "page": None},
    ]
    assert reply["notices"] == NOTICES
    question = next(m for m in response.json()["messages"] if m["role"] == "user")
    assert (question["tool_calls"], question["notices"]) == ([], [])
    body = response.content.decode()
    for secret in SECRETS:
        assert secret not in body


def test_the_snapshot_itself_never_holds_a_private_result(share):
    stored = json.dumps(Share.objects.get(pk=share.pk).messages)
    for secret in SECRETS:
        assert secret not in stored
    assert WEATHER_RESULT in stored


def test_a_server_made_private_after_the_share_is_hidden_from_then_on(api_client, client, share):
    ToolServer.objects.filter(name="weather").update(private=True)
    response = api_client.get(f"/api/v1/shares/{share.pk}")
    first = _reply(response.json())["tool_calls"][0]
    assert (first["result"], first["result_hidden"], first["truncated"]) == (None, True, False)
    assert WEATHER_RESULT not in response.content.decode()
    assert WEATHER_RESULT not in client.get(f"/share/{share.pk}/").content.decode()
    # Made public again, the result it was shared with is back (the snapshot kept it).
    ToolServer.objects.filter(name="weather").update(private=False)
    assert _reply(api_client.get(f"/api/v1/shares/{share.pk}").json())["tool_calls"][0]["result"] == WEATHER_RESULT


def test_the_page_shows_the_calls_and_safe_links_never_a_private_result(client, share):
    response = client.get(f"/share/{share.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    for secret in SECRETS:
        assert secret not in html
    assert "weather · forecast" in html and "vault · lookup" in html and "Web search" in html
    assert "WEATHER-RESULT: sunny, 21 C" in html and "cut at its size limit" in html
    assert "the operator keeps this tool server's results private" in html
    assert html.count('<details class="tool-call') == 5
    assert "&quot;city&quot;: &quot;Seoul&quot;" in html  # the arguments, as escaped JSON
    assert NOTICES[0]["message"] in html
    links = re.findall(r'<a href="([^"]*)" rel="([^"]*)">([^<]*)</a>', html)
    assert (
        "https://news.example/seoul?a=1&amp;b=&lt;2&gt;",
        "noopener noreferrer nofollow",
        "Seoul &lt;news&gt;",
    ) in links
    assert "Bad link" in html  # shown as text, not a link
    assert not [href for href, _rel, _text in links if not href.startswith(("http://", "https://", "/", "?"))]


def test_the_page_says_it_in_korean(client, share):
    html = client.get(f"/share/{share.pk}/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "운영자가 이 도구 서버의 결과를 비공개로 설정했습니다" in html
    assert "웹 검색" in html and "완료" in html and "실패" in html and "인수" in html


def test_a_clone_carries_the_calls_as_the_share_shows_them(outsider_client, outsider, share):
    response = outsider_client.post(f"/api/v1/shares/{share.pk}/clone")
    assert response.status_code == 201, response.content
    copy = Conversation.objects.get(pk=response.json()["id"], owner=outsider)
    reply = copy.messages.get(role=Role.ASSISTANT)
    assert [
        {key: call[key] for key in SHOWN_CALLS[0]} for call in reply.tool_calls
    ] == SHOWN_CALLS  # hidden stays hidden
    assert reply.tool_calls[0]["function"] == TOOL_CALLS[0]["function"]  # OpenAI's form, for its next turns
    assert reply.notices == NOTICES
    assert [source.get("url") for source in reply.sources] == [None, WEB_URL, ""]
    stored = json.dumps([reply.tool_calls, reply.sources, reply.notices])
    for secret in SECRETS:
        assert secret not in stored
    shown = outsider_client.get(f"/api/v1/conversations/{copy.pk}/messages").json()
    shown = shown.get("results", shown)
    assert [call["id"] for call in shown[-1]["tool_calls"]] == [call["id"] for call in SHOWN_CALLS]
    assert copy.messages.get(role=Role.USER).tool_calls == []


def test_the_continue_page_clones_the_same_way(share, staff_user):
    browser = Client()
    browser.force_login(staff_user)
    assert browser.post(f"/share/{share.pk}/continue/").status_code == 302
    copy = Conversation.objects.get(owner=staff_user)
    assert copy.messages.get(role=Role.ASSISTANT).tool_calls[1]["result"] is None


def test_a_sample_hides_private_results_too(api_client, conversation, staff_user):
    sample = services.sample_create_from_conversation(conversation=conversation, created_by=staff_user)
    response = api_client.get(f"/api/v1/samples/{sample.pk}")
    assert response.status_code == 200
    assert _reply(response.json())["tool_calls"] == SHOWN_CALLS
    for secret in SECRETS:
        assert secret not in response.content.decode()


def test_a_reply_stopped_mid_call_with_no_text_is_shared_with_its_call(user, api_client, servers):
    conversation = conversation_with_messages(owner=user, pairs=[])
    question = MessageFactory(conversation=conversation, role=Role.USER, content="Look it up")
    MessageFactory(
        conversation=conversation,
        role=Role.ASSISTANT,
        content="",
        status="stopped",
        tool_calls=[{**TOOL_CALLS[1], "status": "stopped", "result": ""}],
        parent=question,
    )
    share = services.share_create(user=user, conversation=conversation)
    body = api_client.get(f"/api/v1/shares/{share.pk}").json()
    assert [(m["role"], m["content"]) for m in body["messages"]] == [("user", "Look it up"), ("assistant", "")]
    assert body["messages"][1]["tool_calls"][0]["status"] == "stopped"
    assert body["messages"][1]["tool_calls"][0]["result_hidden"] is True
