"""The server running a chat's tools (issue 24's loop), against a real MCP server on loopback
(tests/tools/mcp_server.py) and the fake OpenAI-compatible upstream's ``tools``/``toolloop``
models, which call what they are offered and answer from the results they receive."""

import json
import time
import uuid

import httpx
import pytest

from conversations import generation
from conversations.models import Conversation, Message, MessageStatus, Role
from conversations.streaming import eventlog
from tests.conversations.replies import finish_reply
from tests.conversations.sse import iter_events
from tests.conversations.test_stream import bearer, collect, stream_url
from tests.conversations.upstream import TOOL_ANSWER, TOOL_PREFACE, upstream  # noqa: F401
from tests.tools.mcp_server import DEFINITION, FORECAST, McpTestServer, free_port
from tests.tools.searxng import pages, result, searxng  # noqa: F401
from tools.models import ToolCall, ToolServer
from tools.toolbox import _LISTINGS

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "Seoul"


@pytest.fixture(autouse=True)
def _requests_of_this_test(upstream):  # noqa: F811
    upstream.requests.clear()  # the fake upstream serves the whole session


@pytest.fixture
def mcp():
    server = McpTestServer().start()
    yield server
    server.stop()


def tools_model(upstream, mode="tools", **fields):  # noqa: F811
    from conversations.models import LLMModel

    return LLMModel.objects.create(
        slug=mode,
        display_name=mode,
        provider="openai",
        upstream_model=mode,
        base_url=upstream.base_url,
        capabilities=["tools"],
        request_timeout_seconds=5.0,
        context_window=8192,
        max_output_tokens=256,
        **fields,
    )


def asked(user, model, tools, question=QUESTION) -> tuple[Conversation, Message]:
    conversation = Conversation.objects.create(owner=user, model=model, tools=tools)
    asked = Message.objects.create(conversation=conversation, role=Role.USER, content=question, model=model)
    reply = Message.objects.create(
        conversation=conversation, parent=asked, role=Role.ASSISTANT, status=MessageStatus.PENDING, model=model
    )
    return conversation, reply


def sent_to(upstream, model_name: str) -> list[dict]:  # noqa: F811
    return [body for body in upstream.requests if body["model"] == model_name]


def test_the_model_calls_the_tools_and_answers_from_their_results(asgi_server, upstream, mcp, user):  # noqa: F811
    ToolServer.objects.create(name="weather", url=mcp.url)
    model = tools_model(upstream)
    conversation, reply = asked(user, model, ["weather"])
    finish_reply(message_id=reply.id)

    # The call reached the MCP server with the model's arguments.
    assert mcp.calls == [
        {"name": "forecast", "arguments": {"city": QUESTION}},
        {"name": "define", "arguments": {"word": QUESTION}},
    ]
    # The model was offered the server's tools, then sent their results as OpenAI tool turns.
    first, second = sent_to(upstream, "tools")
    assert [tool["function"]["name"] for tool in first["tools"]] == ["weather__forecast", "weather__define"]
    assert first["tools"][0]["function"]["parameters"]["required"] == ["city"]
    calls = second["messages"][-3]
    assert calls["role"] == "assistant" and [c["function"]["name"] for c in calls["tool_calls"]] == [
        "weather__forecast",
        "weather__define",
    ]
    assert second["messages"][-2] == {
        "role": "tool",
        "tool_call_id": calls["tool_calls"][0]["id"],
        "content": FORECAST.format(city=QUESTION),
    }
    assert second["messages"][-1]["content"] == DEFINITION.format(word=QUESTION)

    row = Message.objects.get(pk=reply.pk)
    assert row.status == MessageStatus.COMPLETE
    assert row.content == TOOL_ANSWER + FORECAST.format(city=QUESTION) + " | " + DEFINITION.format(word=QUESTION)
    kept = row.tool_calls
    assert [(c["server"], c["name"], c["status"]) for c in kept] == [
        ("weather", "forecast", "ok"),
        ("weather", "define", "ok"),
    ]
    assert kept[0]["arguments"] == {"city": QUESTION} and json.loads(kept[0]["function"]["arguments"]) == {
        "city": QUESTION
    }
    assert kept[0]["result"] == FORECAST.format(city=QUESTION) and kept[0]["offset"] == 0
    assert kept[0]["duration_ms"] is not None
    # Counted per plan.
    assert ToolCall.objects.filter(user=user, status="ok").count() == 2
    assert ToolCall.objects.first().plan_id == user.settings.plan_id

    # Streamed in order, and again the same on resume from any event.
    events = collect(asgi_server, conversation, bearer(user), params={"last_event_id": 0})
    names = [event.name for event in events]
    assert names[:5] == ["message.start", "tool.call", "tool.result", "tool.call", "tool.result"], names
    assert names[-1] == "message.done" and "delta" in names[5:]
    call, result = events[1].data, events[2].data
    assert call["server"] == "weather" and call["name"] == "forecast" and call["arguments"] == {"city": QUESTION}
    assert result["id"] == call["id"] and result["status"] == "ok"
    assert result["result"] == FORECAST.format(city=QUESTION)
    resumed = collect(asgi_server, conversation, bearer(user), params={"last_event_id": events[1].id})
    assert [(e.id, e.name, e.data) for e in resumed] == [(e.id, e.name, e.data) for e in events[2:]]

    # The message list shows them.
    listed = httpx.get(f"{asgi_server}/api/v1/conversations/{conversation.pk}/messages", headers=bearer(user)).json()
    shown = next(m for m in listed["results"] if m["id"] == str(reply.pk))
    assert [c["name"] for c in shown["tool_calls"]] == ["forecast", "define"] and shown["notices"] == []


def test_later_turns_carry_the_calls_as_tool_turns(upstream, mcp, user):  # noqa: F811
    ToolServer.objects.create(name="weather", url=mcp.url)
    model = tools_model(upstream)
    conversation, reply = asked(user, model, ["weather"])
    finish_reply(message_id=reply.id)
    follow = Message.objects.create(conversation=conversation, parent=reply, role=Role.USER, content="And Busan?")
    second = Message.objects.create(
        conversation=conversation, parent=follow, role=Role.ASSISTANT, status=MessageStatus.PENDING, model=model
    )
    finish_reply(message_id=second.id)
    body = sent_to(upstream, "tools")[2]  # the second reply's first request
    roles = [m["role"] for m in body["messages"]]
    assert roles[-6:] == ["user", "assistant", "tool", "tool", "assistant", "user"], roles
    assert body["messages"][-4]["content"] == FORECAST.format(city=QUESTION)
    assert body["messages"][-2]["content"].startswith(TOOL_ANSWER)


def test_a_server_that_is_down_is_left_out_with_a_notice(upstream, mcp, user):  # noqa: F811
    ToolServer.objects.create(name="weather", url=mcp.url)
    ToolServer.objects.create(name="gone", url=f"http://127.0.0.1:{free_port()}/mcp", timeout_seconds=2)
    model = tools_model(upstream)
    conversation, reply = asked(user, model, ["gone", "weather"])
    finish_reply(message_id=reply.id)
    row = Message.objects.get(pk=reply.pk)
    assert row.status == MessageStatus.COMPLETE
    assert [n["code"] for n in row.notices] == ["tool_server_unavailable"]
    assert "gone" in row.notices[0]["message"]
    offered = [tool["function"]["name"] for tool in sent_to(upstream, "tools")[0]["tools"]]
    assert offered == ["weather__forecast", "weather__define"]


def test_a_tool_that_hangs_times_out_and_the_model_hears_so(upstream, user):  # noqa: F811
    slow = McpTestServer(tools=("wait",)).start()
    try:
        ToolServer.objects.create(name="slow", url=slow.url, timeout_seconds=1)
        model = tools_model(upstream)
        conversation, reply = asked(user, model, ["slow"], question="30")
        finish_reply(message_id=reply.id)
    finally:
        slow.stop()
    row = Message.objects.get(pk=reply.pk)
    assert row.status == MessageStatus.COMPLETE
    assert row.tool_calls[0]["status"] == "timeout" and "1 s" in row.tool_calls[0]["error"]
    assert sent_to(upstream, "tools")[1]["messages"][-1]["content"].startswith("Error: ")
    assert ToolCall.objects.get().status == "timeout"


def test_a_model_that_keeps_calling_is_stopped_by_the_round_cap(upstream, mcp, user, settings):  # noqa: F811
    settings.TOOLS = {**settings.TOOLS, "ROUNDS_MAX": 2}
    ToolServer.objects.create(name="weather", url=mcp.url)
    model = tools_model(upstream, "toolloop")
    conversation, reply = asked(user, model, ["weather"])
    finish_reply(message_id=reply.id)
    requests = sent_to(upstream, "toolloop")
    assert len(requests) == 3  # two rounds of calls, then an answer
    assert "tool_choice" not in requests[1] and requests[2]["tool_choice"] == "none"
    row = Message.objects.get(pk=reply.pk)
    assert row.status == MessageStatus.COMPLETE and row.content.startswith(TOOL_ANSWER)
    assert len(row.tool_calls) == 4 and len(mcp.calls) == 4
    assert [n["code"] for n in row.notices] == ["tool_rounds_exhausted"]


def test_the_daily_limit_of_the_plan_refuses_further_calls(upstream, mcp, user):  # noqa: F811
    plan = user.settings.plan
    plan.daily_tool_call_limit = 1
    plan.save()
    ToolServer.objects.create(name="weather", url=mcp.url)
    model = tools_model(upstream)
    conversation, reply = asked(user, model, ["weather"])
    finish_reply(message_id=reply.id)
    row = Message.objects.get(pk=reply.pk)
    assert [c["status"] for c in row.tool_calls] == ["ok", "refused"]
    assert [n["code"] for n in row.notices] == ["tool_limit_reached"]
    assert len(mcp.calls) == 1 and ToolCall.objects.count() == 1


def test_stop_in_the_middle_of_a_call_ends_the_reply_and_the_call(asgi_server, upstream, user):  # noqa: F811
    slow = McpTestServer(tools=("wait",)).start()
    try:
        ToolServer.objects.create(name="slow", url=slow.url, timeout_seconds=60)
        model = tools_model(upstream)
        conversation, reply = asked(user, model, ["slow"], question="30")
        headers = bearer(user)
        with httpx.stream("GET", stream_url(asgi_server, conversation), headers=headers, timeout=30) as response:
            generation.start_generation(message_id=reply.id)
            events = []
            reader = iter_events(response)
            for event in reader:
                events.append(event)
                if event.name == "tool.call":
                    stopped = httpx.post(f"{asgi_server}/api/v1/conversations/{conversation.pk}/stop", headers=headers)
                    assert stopped.status_code == 202, stopped.text
                    break
            events += list(reader)
    finally:
        slow.stop()
    names = [event.name for event in events]
    assert names[-2:] == ["tool.result", "message.done"], names
    assert events[-2].data["status"] == "stopped" and events[-1].data["status"] == "stopped"
    row = Message.objects.get(pk=reply.pk)
    assert row.status == MessageStatus.STOPPED and row.tool_calls[0]["status"] == "stopped"
    assert ToolCall.objects.get().status == "stopped"


def test_a_crash_mid_call_leaves_the_call_interrupted_and_never_runs_it_again(upstream, user):  # noqa: F811
    from conversations.generation.reaping import reap_stale_sync

    conversation = Conversation.objects.create(owner=user, tools=["weather"])
    reply = Message.objects.create(
        conversation=conversation,
        role=Role.ASSISTANT,
        status=MessageStatus.STREAMING,
        tool_calls=[
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "weather__forecast", "arguments": "{}"},
                "server": "weather",
                "name": "forecast",
                "arguments": {},
                "status": "running",
                "result": "",
                "error": "",
                "truncated": False,
                "offset": 0,
                "duration_ms": None,
            }
        ],
    )
    ToolCall.objects.create(user=user, server="weather", tool="forecast", message_id=reply.pk, call_id="call_1")
    eventlog.local_clear()
    assert reap_stale_sync(stale_after=0) == 1
    row = Message.objects.get(pk=reply.pk)
    assert row.status == MessageStatus.INTERRUPTED and row.tool_calls[0]["status"] == "interrupted"
    assert ToolCall.objects.get().status == "interrupted"


def test_without_the_tools_capability_no_tools_are_offered(upstream, mcp, user):  # noqa: F811
    ToolServer.objects.create(name="weather", url=mcp.url)
    model = tools_model(upstream)
    model.capabilities = []
    model.save()
    conversation, reply = asked(user, model, ["weather"])
    finish_reply(message_id=reply.id)
    assert "tools" not in sent_to(upstream, "tools")[0] and mcp.calls == []


def test_a_secret_header_is_read_from_the_environment(upstream, user, monkeypatch):  # noqa: F811
    guarded = McpTestServer(token="s3cret").start()
    try:
        monkeypatch.setenv("MCP_TEST_TOKEN", "s3cret")
        ToolServer.objects.create(
            name="weather", url=guarded.url, headers=[{"name": "Authorization", "env": "MCP_TEST_TOKEN"}]
        )
        model = tools_model(upstream)
        conversation, reply = asked(user, model, ["weather"])
        monkeypatch.setenv("MCP_TEST_TOKEN", "Bearer s3cret")
        finish_reply(message_id=reply.id)
    finally:
        guarded.stop()
    assert Message.objects.get(pk=reply.pk).tool_calls[0]["status"] == "ok"
    assert guarded.refused == 0 and len(guarded.calls) == 2


def test_a_late_joiner_gets_the_calls_in_its_snapshot(asgi_server, upstream, user):  # noqa: F811
    slow = McpTestServer(tools=("wait",)).start()
    try:
        ToolServer.objects.create(name="slow", url=slow.url, timeout_seconds=30)
        model = tools_model(upstream)
        conversation, reply = asked(user, model, ["slow"], question="2")
        generation.start_generation(message_id=reply.id)
        deadline = time.monotonic() + 10
        while not slow.calls and time.monotonic() < deadline:
            time.sleep(0.02)
        # Joining now (no Last-Event-ID): a snapshot with the call running, then the rest live.
        events = collect(asgi_server, conversation, bearer(user))
        # And the row has it too, for a reader without the log.
        row = Message.objects.get(pk=reply.pk)
    finally:
        slow.stop()
    assert events[0].name == "snapshot", [e.name for e in events]
    running = events[0].data["tool_calls"]
    assert [(c["name"], c["status"], c["arguments"]) for c in running] == [("wait", "running", {"seconds": "2"})]
    names = [event.name for event in events]
    assert names[1] == "tool.result" and events[1].data["status"] == "ok" and names[-1] == "message.done"
    assert row.tool_calls[0]["status"] == "ok"


# --- web search -------------------------------------------------------------------------------


def test_a_web_search_answers_with_numbered_web_sources(upstream, user, settings, searxng, pages):  # noqa: F811
    settings.TOOLS = {**settings.TOOLS, "WEB_SEARCH_URL": searxng.base_url, "WEB_FETCH_PAGES": 3}
    public = pages.page("/news", "<html><body><p>The election was won by the blue party.</p></body></html>")
    searxng.results = [
        result(public, "Election results", "Blue party wins."),
        result("http://127.0.0.1:1/admin", "Local admin", "Loopback snippet."),
        result("http://169.254.169.254/latest/meta-data/", "Metadata", "Metadata snippet."),
    ]
    model = tools_model(upstream)
    conversation, reply = asked(user, model, ["web_search"], question="who won the election")
    finish_reply(message_id=reply.id)

    assert [query["q"] for query in searxng.queries] == ["who won the election"]
    # The guard refused every page on a loopback or link-local address (the page server is on
    # 127.0.0.1 too): only the snippets reached the model.
    assert pages.requests == []
    row = Message.objects.get(pk=reply.pk)
    assert [(s["n"], s["kind"], s["url"], s["title"]) for s in row.sources] == [
        (1, "web", public, "Election results"),
        (2, "web", "http://127.0.0.1:1/admin", "Local admin"),
        (3, "web", "http://169.254.169.254/latest/meta-data/", "Metadata"),
    ]
    sent = sent_to(upstream, "tools")[1]["messages"][-1]["content"]
    assert "[1] Election results" in sent and "Blue party wins." in sent and "blue party." not in sent
    assert row.tool_calls[0]["server"] == "web_search" and row.tool_calls[0]["arguments"] == {
        "query": "who won the election"
    }
    assert row.content.startswith(TOOL_ANSWER) and "[1] Election results" in row.content


def test_a_web_search_reads_the_pages_the_operator_allows(upstream, user, settings, searxng, pages):  # noqa: F811
    settings.TOOLS = {**settings.TOOLS, "WEB_SEARCH_URL": searxng.base_url, "FETCH_ALLOW_PRIVATE": True}
    public = pages.page("/news", "<html><body><p>The election was won by the blue party.</p></body></html>")
    searxng.results = [result(public, "Election results", "Blue party wins.")]
    model = tools_model(upstream)
    conversation, reply = asked(user, model, ["web_search"], question="who won")
    finish_reply(message_id=reply.id)
    assert pages.paths == ["/news"]
    assert "The election was won by the blue party." in sent_to(upstream, "tools")[1]["messages"][-1]["content"]
    events = eventlog.local_get(reply.id).events
    names = [event.name for event in events]
    assert names.index("tool.result") < names.index("sources") < names.index("delta")


# --- found in review ----------------------------------------------------------------------------


def test_text_before_the_calls_goes_back_to_the_model_and_the_calls_sit_after_it(upstream, mcp, user):  # noqa: F811
    ToolServer.objects.create(name="weather", url=mcp.url)
    model = tools_model(upstream, "toolsay")
    conversation, reply = asked(user, model, ["weather"])
    finish_reply(message_id=reply.id)
    second = sent_to(upstream, "toolsay")[1]["messages"]
    assert second[-3]["role"] == "assistant" and second[-3]["content"] == TOOL_PREFACE
    row = Message.objects.get(pk=reply.pk)
    assert row.content.startswith(TOOL_PREFACE + TOOL_ANSWER)
    assert [call["offset"] for call in row.tool_calls] == [len(TOOL_PREFACE)] * 2


def test_call_ids_stay_unique_when_the_upstream_numbers_each_response_from_zero(upstream, mcp, user, settings):  # noqa: F811
    settings.TOOLS = {**settings.TOOLS, "ROUNDS_MAX": 2}
    ToolServer.objects.create(name="weather", url=mcp.url)
    model = tools_model(upstream, "toolloop")
    conversation, reply = asked(user, model, ["weather"])
    finish_reply(message_id=reply.id)
    ids = [call["id"] for call in Message.objects.get(pk=reply.pk).tool_calls]
    assert len(ids) == 4 and len(set(ids)) == 4
    snapshot = eventlog.snapshot_of(eventlog.local_get(reply.id).events, str(reply.id))
    assert [call["id"] for call in snapshot.data.tool_calls] == ids
    last = sent_to(upstream, "toolloop")[-1]["messages"]
    sent_ids = [call["id"] for turn in last if turn.get("tool_calls") for call in turn["tool_calls"]]
    assert sent_ids == ids and [turn["tool_call_id"] for turn in last if turn["role"] == "tool"] == ids


def test_past_the_daily_limit_every_call_is_refused_with_one_notice(upstream, mcp, user):  # noqa: F811
    plan = user.settings.plan
    plan.daily_tool_call_limit = 1
    plan.save()
    ToolCall.objects.create(user=user, server="weather", tool="forecast", message_id=uuid.uuid4(), call_id="old")
    ToolServer.objects.create(name="weather", url=mcp.url)
    model = tools_model(upstream)
    conversation, reply = asked(user, model, ["weather"])
    finish_reply(message_id=reply.id)
    row = Message.objects.get(pk=reply.pk)
    assert [c["status"] for c in row.tool_calls] == ["refused", "refused"]
    assert [n["code"] for n in row.notices] == ["tool_limit_reached"]
    assert mcp.calls == [] and ToolCall.objects.count() == 1


def test_a_secret_files_trailing_newline_is_not_part_of_the_value_and_never_shown(upstream, user, monkeypatch):  # noqa: F811
    guarded = McpTestServer(token="s3cret").start()
    try:
        ToolServer.objects.create(
            name="weather", url=guarded.url, headers=[{"name": "Authorization", "env": "MCP_TEST_TOKEN"}]
        )
        monkeypatch.setenv("MCP_TEST_TOKEN", "Bearer s3cret\n")
        model = tools_model(upstream)
        conversation, reply = asked(user, model, ["weather"])
        finish_reply(message_id=reply.id)
        assert Message.objects.get(pk=reply.pk).tool_calls[0]["status"] == "ok"
        # A value no header can carry: the server is left out, the notice names the variable only.
        monkeypatch.setenv("MCP_TEST_TOKEN", "Bearer s3cret\nX-Evil: 1")
        _LISTINGS.clear()  # listed afresh: the listing is where a server that cannot be called is left out
        conversation, reply = asked(user, model, ["weather"])
        finish_reply(message_id=reply.id)
    finally:
        guarded.stop()
    row = Message.objects.get(pk=reply.pk)
    assert [n["code"] for n in row.notices] == ["tool_server_unavailable"]
    assert "MCP_TEST_TOKEN" in row.notices[0]["message"] and "s3cret" not in str(row.notices) + str(row.tool_calls)


def test_a_failure_quoting_a_header_value_is_told_without_it():
    from tools.mcp_client import _reason

    class Refused(Exception):
        pass

    said = _reason(Refused("Illegal header value b'Bearer sk-SECRET\\n'"), {"Authorization": "Bearer sk-SECRET\n"})
    assert "SECRET" not in said and "[header value]" in said


def test_arguments_that_are_not_a_json_object_are_not_run_nor_sent_back():
    from conversations.generation.tool_loop import Prepared, ReplyTools
    from tools.toolbox import Function, Toolbox

    box = Toolbox()
    box.add(Function("w__forecast", "w", "forecast", None), "", {"type": "object"})
    session = ReplyTools(
        message_id="m", prepared=Prepared(1, [], False, []), box=box, sources=[], publish=lambda *a: None
    )
    entry = session._entry({"id": "c", "function": {"name": "w__forecast", "arguments": '{"city": "Seo'}}, 0)
    assert entry["arguments"] == '{"city": "Seo' and entry["function"]["arguments"] == "{}"
