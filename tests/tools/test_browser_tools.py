"""Tools in the web client, in a real browser (Debian's chromium) against a real server process:
a user turns a tool server on in a chat's settings, asks, and sees the call (its name, its
arguments and its result when opened) and the answer made from it; with a search backend set,
the reply's web sources numbered under it, its [n] citations linking to them.

The server process, the browser and the page helpers are tests/config/test_web_client.py's; the
tool server is a real MCP server on loopback (tests/tools/mcp_server.py), the model the fake
upstream's ``tools`` (it calls what it is offered, then answers "From the tools: <results>"), and
the search backend a fake SearXNG (tests/tools/searxng.py).
"""

import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.config.test_web_client import (  # noqa: F401 (fixtures, used by name)
    CHROMIUM,
    Server,
    _expect,
    _screenshots_on_failure,
    browser,
    composer,
    context,
    messages_log,
    page,
    sign_in,
    user,
    wait_finished,
)
from tests.conversations.upstream import TOOL_ANSWER, upstream  # noqa: F401
from tests.tools.mcp_server import FORECAST, McpTestServer, free_port
from tests.tools.searxng import SearxngServer, result
from testsupport.servers import ServerProcess, manage, own_database, server_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="needs Debian's chromium"),
]

TOOLS_MODEL = "Tools test model"
PLAIN_MODEL = "Plain test model"
MODELS = [
    # slug, name shown, upstream mode, capabilities, default
    ("tools", TOOLS_MODEL, "tools", ["tools"], True),
    ("plain", PLAIN_MODEL, "normal:5:0.01", [], False),
]
WEB_RESULTS = [
    {
        "url": "https://news.example.com/2026/12/07/seoul-marathon",
        "title": "Seoul marathon moved to Sunday",
        "content": "The city moved the race by a day.",
    },
    {
        "url": "https://www.example.org/weather/seoul",
        "title": "Seoul weather this week",
        "content": "Cold and clear.",
    },
]


@pytest.fixture(scope="module")
def searxng():
    server = SearxngServer().start()
    server.results = [result(entry["url"], entry["title"], entry["content"]) for entry in WEB_RESULTS]
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mcp():
    server = McpTestServer(tools=("forecast",)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, upstream, mcp, searxng):  # noqa: F811
    tmp_path = tmp_path_factory.mktemp("web-tools")
    with own_database(tmp_path, "webtools") as database_url:
        env = server_env(
            database_url,
            tmp_path,
            THROTTLE_REGISTER_IP="1000/hour",
            THROTTLE_LOGIN_IP="1000/min",
            THROTTLE_REFRESH="1000/min",
            WEB_SEARCH_URL=searxng.base_url,
            WEB_FETCH_PAGES="0",  # the results' own pages are not fetched (no network here)
        )
        manage(env, "migrate", "--noinput")
        rows = ", ".join(
            f"dict(slug={slug!r}, display_name={name!r}, upstream_model={mode!r}, capabilities={caps!r}, "
            f"is_default={default!r})"
            for slug, name, mode, caps, default in MODELS
        )
        script = (
            "from conversations.models import LLMModel\n"
            "LLMModel.objects.update(enabled=False, is_default=False)\n"
            f"for order, row in enumerate([{rows}]):\n"
            f"    LLMModel.objects.create(provider='openai', base_url={upstream.base_url!r}, order=order,\n"
            "        max_output_tokens=4000, context_window=8192, **row)\n"
        )
        manage(env, "shell", "-c", script)
        # As an operator would: one command (it lists the server's tools, so GET /tools shows them).
        said = manage(env, "tool_server_add", "weather", mcp.url, "--title", "Weather", "--description", "Forecasts")
        assert "forecast" in said, said
        # And one that is down (nothing listens there): a reply is made without it, with a note.
        manage(env, "tool_server_add", "down", f"http://127.0.0.1:{free_port()}/mcp", "--title", "Down", "--no-check")
        process = ServerProcess(env).start()
        try:
            yield Server(process.base, Path(env["LOG_FILE"]))
        finally:
            process.stop()


def open_chat_settings(tab):
    expect = _expect()
    tab.get_by_role("button", name="Chat settings", exact=True).click()
    dialog = tab.get_by_role("dialog", name="Chat settings")
    expect(dialog).to_be_visible()
    return dialog


def turn_on(tab, tool: str) -> None:
    expect = _expect()
    dialog = open_chat_settings(tab)
    tools = dialog.get_by_role("group", name="Tools")
    box = tools.get_by_role("checkbox", name=re.compile(rf"^{re.escape(tool)}\b"))
    expect(box).not_to_be_checked()
    box.check()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()


def reply_of(tab):
    return messages_log(tab).get_by_role("article", name=f"{TOOLS_MODEL} said")


def test_a_tool_call_shown_with_its_arguments_result_and_the_answer(page, server, user, mcp):  # noqa: F811
    expect = _expect()
    sign_in(page, user)

    # A new chat: its tools are chosen before its first message, which creates it with them.
    dialog = open_chat_settings(page)
    tools = dialog.get_by_role("group", name="Tools")
    # The two servers, and web search (a backend is set).
    expect(tools.get_by_role("checkbox")).to_have_count(3)
    expect(tools).to_contain_text("Offers: forecast")
    dialog.get_by_role("button", name="Close").click()
    turn_on(page, "Weather")
    badge = page.get_by_role("button", name="Tools on: Weather")
    expect(badge).to_be_visible()

    # A model without the tools capability: the badge says they would not be called.
    page.get_by_role("button", name=re.compile(r"^Model: .*Choose model$")).click()
    page.get_by_role("menuitemradio", name=PLAIN_MODEL).click()
    expect(page.get_by_role("button", name=f"Tools on (Weather), but {PLAIN_MODEL} cannot use them")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Model: .*Choose model$")).click()
    page.get_by_role("menuitemradio", name=TOOLS_MODEL).click()
    expect(badge).to_be_visible()

    composer(page).fill("Seoul")
    composer(page).press("Enter")
    reply = reply_of(page)
    expect(reply).to_have_count(1)
    wait_finished(page, reply)

    # The call, collapsed, then opened: its name, state, arguments and result (as text).
    call = reply.get_by_role("button", name="Tool weather / forecast: Done")
    expect(call).to_have_attribute("aria-expanded", "false")
    expect(reply.locator(".tool-arguments")).to_have_count(0)
    call.click()
    expect(call).to_have_attribute("aria-expanded", "true")
    expect(reply.locator(".tool-arguments")).to_have_text(json.dumps({"city": "Seoul"}, indent=2))
    answer = FORECAST.format(city="Seoul")
    expect(reply.locator(".tool-result")).to_have_text(answer)
    # Then the answer made from it, after the call (where the reply was when it called).
    expect(reply.locator(".reply-pieces > .markdown")).to_have_text(TOOL_ANSWER + answer)
    order = reply.locator(".reply-pieces > *").evaluate_all("(nodes) => nodes.map((n) => n.className)")
    assert order == ["tool-calls", "markdown"], order
    assert mcp.calls[-1] == {"name": "forecast", "arguments": {"city": "Seoul"}}

    # The chat was created with its tools; loaded again, the call is shown from the saved message.
    chat_id = re.search(r"/c/([0-9a-f-]{36})$", page.url).group(1)
    assert user.api("GET", f"/api/v1/conversations/{chat_id}").json()["tools"] == ["weather"]
    page.reload()
    reply = reply_of(page)
    call = reply.get_by_role("button", name="Tool weather / forecast: Done")
    expect(call).to_have_attribute("aria-expanded", "false")
    call.click()
    expect(reply.locator(".tool-result")).to_have_text(answer)
    expect(page.get_by_role("button", name="Tools on: Weather")).to_be_visible()
    page.screenshot(path=str(Path(server.log).parent / "tool-call.png"), full_page=True)


def test_web_sources_numbered_under_the_reply(page, server, user, searxng):  # noqa: F811
    expect = _expect()
    # An existing chat: its tools are saved at once (PATCH).
    conversation = user.conversation(model="tools")
    sign_in(page, user, f"/c/{conversation['id']}")
    turn_on(page, "Web search")
    expect(page.get_by_role("button", name="Tools on: Web search")).to_be_visible()
    assert user.api("GET", f"/api/v1/conversations/{conversation['id']}").json()["tools"] == ["web_search"]

    composer(page).fill("What happened in Seoul today?")
    composer(page).press("Enter")
    reply = reply_of(page)
    wait_finished(page, reply)
    assert searxng.queries[-1]["q"] == "What happened in Seoul today?"
    expect(reply.get_by_role("button", name="Tool Web search: Done")).to_be_visible()

    # The results, numbered under the reply: links (title, host) opening in a new tab.
    sources = reply.get_by_role("region", name="Sources")
    links = sources.get_by_role("link")
    expect(links).to_have_count(len(WEB_RESULTS))
    for n, found in enumerate(WEB_RESULTS, start=1):
        host = urlsplit(found["url"]).hostname.removeprefix("www.")
        link = sources.get_by_role("link", name=f"Source {n}: {found['title']}, {host} (opens in a new tab)")
        expect(link).to_have_attribute("href", found["url"])
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
        expect(link).to_contain_text(f"[{n}]")
    # The answer's [n] link to the same pages.
    first = reply.locator(".markdown a.cite", has_text="[1]").first
    expect(first).to_have_attribute("href", WEB_RESULTS[0]["url"])
    expect(first).to_have_attribute("rel", "noopener noreferrer nofollow")
    page.screenshot(path=str(Path(server.log).parent / "web-sources.png"), full_page=True)


def test_a_notice_under_the_reply_when_a_tool_server_is_down(page, server, user):  # noqa: F811
    expect = _expect()
    r = user.api("POST", "/api/v1/conversations", json={"model": "tools", "tools": ["down"]})
    assert r.status_code == 201, r.text
    sign_in(page, user, f"/c/{r.json()['id']}")
    expect(page.get_by_role("button", name="Tools on: Down")).to_be_visible()
    composer(page).fill("Busan")
    composer(page).press("Enter")
    reply = reply_of(page)
    wait_finished(page, reply)
    notes = reply.get_by_role("list", name="Notes on this reply").get_by_role("listitem")
    expect(notes).to_have_count(1)
    expect(notes).to_contain_text("The tools of down were left out")
    expect(notes).to_have_attribute("data-code", "tool_server_unavailable")
    expect(reply.locator(".tool-call")).to_have_count(0)
    page.reload()
    notes = reply_of(page).get_by_role("list", name="Notes on this reply")
    expect(notes).to_contain_text("The tools of down were left out")
