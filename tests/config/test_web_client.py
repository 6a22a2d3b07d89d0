"""The web client at ``/`` and ``/c/<id>`` in a real browser, against a real server process.

Debian's chromium (Playwright's sync API, ``executable_path``; never a downloaded browser) drives
the bundled SPA (frontend/src, built into frontend/dist/client) served by a uvicorn process of its
own, on a database of its own (SQLite, or a fresh PostgreSQL database and a Redis prefix when the
suite runs on them). Replies come from the tests' OpenAI-compatible upstream
(tests/conversations/upstream.py): predictable tokens ("t0 t1 ...") or its fixed Markdown reply.

The tests find everything by the accessible names the client gives its controls (roles, labels),
as a person using a screen reader would. One server and one browser per module; a fresh browser
context (no storage, no session) per test. On a failure, a screenshot of every page of the test's
context goes into the test's tmp dir (its path and the end of the server log are in the report).
"""

import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conversations.upstream import MARKDOWN_REPLY, expected_text, upstream  # noqa: F401
from testsupport.servers import ServerProcess, manage, own_database, server_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "Web-client-42"

# The models the server offers, each an upstream mode (see upstream.py): name shown -> settings.
QUICK, QUICK_TOKENS = "Quick test model", 30  # the default: about 1.5 s, long enough to watch it grow
MARKDOWN = "Markdown test model"
SLOW = "Slow test model"  # 20 s: stopped long before its end
RESUME, RESUME_TOKENS = "Resume test model", 100  # 5 s: room to reload in the middle
MODELS = [
    ("quick", QUICK, f"normal:{QUICK_TOKENS}:0.05", True),
    ("markdown", MARKDOWN, "markdown::0.005", False),
    ("slow", SLOW, "slow:400:0.05", False),
    ("resume", RESUME, f"normal:{RESUME_TOKENS}:0.05", False),
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK), reason="needs Debian's chromium (apt-get install -y chromium; .ci/run does)"
    ),
]


def _expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    return expect


# --- the server, the browser, a user -----------------------------------------------------------


@dataclass
class Server:
    base: str
    log: Path

    def tail(self, lines: int = 30) -> str:
        text = ""
        for path in (self.log, self.log.with_suffix(".console")):
            if path.exists():
                text += f"--- {path.name}\n" + "".join(path.read_text(errors="replace").splitlines(True)[-lines:])
        return text


@pytest.fixture(scope="module")
def server(tmp_path_factory, upstream):  # noqa: F811
    tmp_path = tmp_path_factory.mktemp("web-client")
    with own_database(tmp_path, "webclient") as database_url:
        env = server_env(
            database_url,
            tmp_path,
            THROTTLE_REGISTER_IP="1000/hour",
            THROTTLE_LOGIN_IP="1000/min",
            THROTTLE_REFRESH="1000/min",
        )
        manage(env, "migrate", "--noinput")
        rows = ", ".join(
            f"dict(slug={slug!r}, display_name={name!r}, upstream_model={mode!r}, is_default={default!r})"
            for slug, name, mode, default in MODELS
        )
        script = (
            "from conversations.models import LLMModel\n"
            "LLMModel.objects.update(enabled=False, is_default=False)\n"
            f"for order, row in enumerate([{rows}]):\n"
            f"    LLMModel.objects.create(provider='openai', base_url={upstream.base_url!r}, order=order,\n"
            "        max_output_tokens=4000, context_window=8192, **row)\n"
        )
        manage(env, "shell", "-c", script)
        process = ServerProcess(env).start()
        try:
            yield Server(process.base, Path(env["LOG_FILE"]))
        finally:
            process.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class _FailureShots:
    """A failed test's pages, photographed before its browser context is closed."""

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        context = item.funcargs.get("context") if hasattr(item, "funcargs") else None
        if report.when != "call" or not report.failed or context is None:
            return
        lines = []
        for index, page in enumerate(context.pages):
            path = item.funcargs["tmp_path"] / f"page-{index}.png"
            try:
                page.screenshot(path=path, full_page=True, timeout=5000)
                lines.append(f"{page.url}: {path}")
            except Exception as error:  # noqa: BLE001 (a screenshot must not hide the failure)
                lines.append(f"{page.url}: no screenshot ({error})")
        server = item.funcargs.get("server")
        report.sections.append(("web client", "\n".join(lines) + ("\n" + server.tail() if server else "")))


@pytest.fixture(scope="module", autouse=True)
def _screenshots_on_failure(request):
    plugin = _FailureShots()
    request.config.pluginmanager.register(plugin, f"web-client-shots-{id(plugin)}")
    yield
    request.config.pluginmanager.unregister(plugin)


@pytest.fixture
def context(browser, server, tmp_path):
    # A light colour scheme, so "system" is light and a dark page comes from the user's setting.
    context = browser.new_context(base_url=server.base, color_scheme="light", reduced_motion="reduce")
    context.set_default_timeout(10_000)
    # The page's CSP (nonce-only scripts, styles from this origin only) must never have to refuse
    # anything the client does (an inline style set from JS, an injected script), nor the client
    # throw where nobody catches it: the browser reports both, and the test fails on either.
    context.problems = []
    context.on("console", lambda m: context.problems.append(m.text) if "Content Security Policy" in m.text else None)
    context.on("weberror", lambda e: context.problems.append(f"uncaught: {e.error}"))
    try:
        yield context
        assert context.problems == [], context.problems
    finally:
        context.close()


def sanitiser_parsed_hostile_html(page) -> None:
    """Expect (and drop) the one report a hostile reply causes by design: DOMPurify parses the
    reply's ``<img onerror=...>`` in an inert document before dropping it, and Chromium reports the
    inline handler against the page's CSP all the same, though nothing runs (``window.__xss`` stays
    undefined; the test checks it)."""
    problems = page.context.problems
    assert any("inline event handler" in p for p in problems), problems
    problems[:] = [p for p in problems if "inline event handler" not in p]


@pytest.fixture
def page(context):
    return context.new_page()


@dataclass
class User:
    base: str
    email: str
    headers: dict

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        return httpx.request(method, f"{self.base}{path}", headers=self.headers, timeout=30, **kwargs)

    def conversation(self, *, model: str = "quick", message: str | None = None, title: str = "") -> dict:
        """A conversation made through the API (its first reply generated before it answers)."""
        body = {"model": model, "title": title}
        if message is not None:
            body["message"] = message
        r = self.api("POST", "/api/v1/conversations" + ("?wait=true" if message else ""), json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def messages(self, conversation_id: str) -> list[dict]:
        r = self.api("GET", f"/api/v1/conversations/{conversation_id}/messages")
        assert r.status_code == 200, r.text
        return r.json()["results"]


def _login(base: str, email: str) -> dict:
    body = {"email": email, "password": PASSWORD, "device_id": "pytest-api", "device_name": "pytest"}
    r = httpx.post(f"{base}/api/v1/auth/login", json=body)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access']}"}


@pytest.fixture
def user(server) -> User:
    """A new account, and an API session of its own (another device than the browser)."""
    email = f"web-{uuid.uuid4().hex[:10]}@example.com"
    r = httpx.post(f"{server.base}/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert r.status_code == 202, r.text
    return User(server.base, email, _login(server.base, email))


# --- the page, through its accessible names ------------------------------------------------------


def sign_in(page, user: User, path: str = "/") -> None:
    expect = _expect()
    page.goto(path)
    page.get_by_role("textbox", name="Email", exact=True).fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("main", name="Chat")).to_be_visible()  # the sidebar may be a closed drawer


def composer(page):
    return page.get_by_role("textbox", name="Message", exact=True)


def send_button(page):
    return page.get_by_role("button", name=re.compile(r"^(Send message|메시지 보내기)$"))


def stop_button(page):
    return page.get_by_role("button", name=re.compile(r"^(Stop generating|생성 중지)$"))


def messages_log(page):
    # Its accessible name is in the page's language.
    return page.get_by_role("log", name=re.compile(r"^(Messages|메시지)$"))


def replies(page, model: str = QUICK):
    return messages_log(page).get_by_role("article", name=f"{model} said")


def questions(page):
    return messages_log(page).get_by_role("article", name="You said")


def question_texts(page):
    return body(questions(page))


def body(article):
    return article.locator(".body")


def conversations_nav(page):
    return page.get_by_role("navigation", name="Conversations")


def choose_model(page, name: str) -> None:
    expect = _expect()
    page.get_by_role("button", name=re.compile(r"^Model: .*Choose model$")).click()
    page.get_by_role("menuitemradio", name=name).click()
    expect(page.get_by_role("button", name=f"Model: {name}. Choose model")).to_be_visible()


def wait_finished(page, article) -> None:
    expect = _expect()
    expect(article).not_to_have_attribute("data-status", re.compile("^(pending|streaming)$"), timeout=30_000)
    expect(send_button(page)).to_be_visible()
    expect(stop_button(page)).to_be_hidden()


def shown_text(article) -> str:
    return body(article).inner_text().strip()


def conversation_id_of(page) -> str:
    match = re.search(r"/c/([0-9a-f-]{36})$", page.url)
    assert match, page.url
    return match.group(1)


# --- 1. sign up, first message, streaming ------------------------------------------------------


def test_sign_up_and_first_reply_streams(page, server):
    expect = _expect()
    email = f"new-{uuid.uuid4().hex[:10]}@example.com"
    page.goto("/")
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    page.get_by_role("button", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_role("textbox", name="Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # An empty chat with its starters, the composer ready.
    starters = page.get_by_role("region", name="Starters")
    expect(starters.get_by_role("heading", name="How can I help?")).to_be_visible()
    expect(starters.get_by_role("list", name="Prompt ideas").get_by_role("button").first).to_be_visible()
    expect(page.get_by_role("heading", name="New chat", level=1)).to_be_visible()
    expect(messages_log(page).get_by_role("article")).to_have_count(0)
    expect(composer(page)).to_be_focused()
    expect(page).to_have_url(f"{server.base}/")

    composer(page).fill("Hello there")
    composer(page).press("Enter")

    expect(page).to_have_url(re.compile(rf"^{re.escape(server.base)}/c/[0-9a-f-]{{36}}$"))
    expect(starters).to_be_hidden()
    expect(question_texts(page)).to_have_text("Hello there")
    reply = replies(page)
    expect(reply).to_have_count(1)
    full = expected_text(QUICK_TOKENS).strip()

    # Watch it grow: every text seen while "Stop generating" shows (and "Send message" does not)
    # is a longer beginning of the reply.
    seen = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = shown_text(reply)
        # Both buttons read in one go: read one after the other, the reply may end in between.
        stop_shown, send_shown = page.evaluate(
            "[!document.getElementById('stop').hidden, !document.getElementById('send').hidden]"
        )
        if not stop_shown:
            break
        assert not send_shown, "Send and Stop are never offered together"
        if text and (not seen or text != seen[-1]):
            seen.append(text)
        time.sleep(0.02)
    assert len(seen) >= 2, f"the reply did not visibly grow while streaming: {seen}"
    assert all(full.startswith(text) for text in seen), seen
    assert all(len(a) < len(b) for a, b in zip(seen, seen[1:], strict=False)), seen
    assert seen[0] != full

    wait_finished(page, reply)
    expect(reply).to_have_attribute("data-status", "complete")
    assert shown_text(reply) == full
    expect(composer(page)).to_have_value("")
    # The new conversation is in the sidebar, marked as the open one.
    expect(conversations_nav(page).locator("[aria-current=page]")).to_have_count(1)


# --- 2. Markdown, highlighted code, safe links, no injected HTML --------------------------------


def test_markdown_reply_is_rendered_and_sanitised(page, user):
    expect = _expect()
    sign_in(page, user)
    choose_model(page, MARKDOWN)
    composer(page).fill("Show me some Markdown")
    composer(page).press("Enter")
    reply = replies(page, MARKDOWN)
    wait_finished(page, reply)
    expect(reply).to_have_attribute("data-status", "complete")

    def check(reply):
        expect(reply.get_by_role("heading", name="Release notes")).to_be_visible()
        expect(reply.get_by_role("list").first.get_by_role("listitem")).to_have_count(3)
        code = reply.locator("pre code")
        expect(code).to_have_count(1)
        expect(code).to_contain_text("def greet(name: str) -> str:")
        assert code.locator("span[class^='hljs-']").count() >= 3, code.inner_html()
        expect(reply.get_by_role("button", name="Copy code")).to_be_visible()
        expect(reply.get_by_role("table")).to_have_count(1)
        expect(reply.get_by_role("table").get_by_role("columnheader")).to_have_count(7)
        link = reply.get_by_role("link", name="the example site")
        expect(link).to_have_attribute("href", "https://example.com")
        expect(link).to_have_attribute("target", "_blank")
        rel = link.get_attribute("rel").split()
        assert "noopener" in rel and "noreferrer" in rel, rel
        # Nothing hostile survived: no image, no script, no handler, no javascript: address.
        assert page.evaluate("typeof window.__xss") == "undefined"
        expect(reply.locator("img")).to_have_count(0)
        expect(reply.locator("script")).to_have_count(0)
        expect(reply.locator("[onerror]")).to_have_count(0)
        expect(reply.locator("[href^='javascript' i]")).to_have_count(0)
        # Nor can a reply dress up as the app: no dialog, no class of the page's own.
        expect(reply.locator("dialog")).to_have_count(0)
        ours = "code, .code-block, .code-head, .code-language, .copy-code, .table-wrap, [class^='hljs-']"
        expect(reply.locator(f".markdown [class]:not({ours})")).to_have_count(0)
        expect(reply).to_contain_text("click")
        clicks = reply.locator("a", has_text="click")
        for index in range(clicks.count()):
            assert clicks.nth(index).get_attribute("href") is None

    check(reply)
    assert user.messages(conversation_id_of(page))[-1]["content"] == MARKDOWN_REPLY
    # The same once rendered from the saved message rather than from the stream.
    page.reload()
    reply = replies(page, MARKDOWN)
    expect(reply).to_have_attribute("data-status", "complete")
    check(reply)
    sanitiser_parsed_hostile_html(page)


# --- 3. stop -------------------------------------------------------------------------------------


def test_stop_generating(page, user):
    expect = _expect()
    sign_in(page, user)
    choose_model(page, SLOW)
    composer(page).fill("Tell me a long story")
    composer(page).press("Enter")
    reply = replies(page, SLOW)
    expect(body(reply)).to_contain_text("t3")
    expect(send_button(page)).to_be_hidden()

    stop_button(page).click()

    expect(reply).to_have_attribute("data-status", "stopped")
    expect(reply.get_by_text("Stopped.", exact=True)).to_be_visible()
    expect(send_button(page)).to_be_visible()
    expect(stop_button(page)).to_be_hidden()
    shown = shown_text(reply)
    assert expected_text(400).startswith(shown) and len(shown) < len(expected_text(400).strip())
    saved = user.messages(conversation_id_of(page))[-1]
    assert saved["status"] == "stopped"
    assert saved["content"].strip() == shown


# --- 4. reload in the middle of a reply ----------------------------------------------------------


def test_reload_mid_reply_resumes_without_duplicates(page, user):
    expect = _expect()
    sign_in(page, user)
    choose_model(page, RESUME)
    composer(page).fill("Count for me")
    composer(page).press("Enter")
    expect(body(replies(page, RESUME))).to_contain_text("t8 ")
    conversation_id = conversation_id_of(page)

    page.reload()

    assert page.url.endswith(f"/c/{conversation_id}")
    reply = replies(page, RESUME)
    expect(reply).to_have_count(1)
    # Following the same reply, still going: the page joined it, it did not just load the end.
    expect(stop_button(page)).to_be_visible()
    expect(reply).to_have_attribute("data-status", "streaming")
    wait_finished(page, reply)
    expect(reply).to_have_attribute("data-status", "complete")
    full = expected_text(RESUME_TOKENS)
    shown = shown_text(reply)
    assert shown == full.strip()
    assert all(shown.split().count(f"t{i}") == 1 for i in range(RESUME_TOKENS))

    saved = user.messages(conversation_id)
    assert [m["role"] for m in saved] == ["user", "assistant"]
    assert saved[-1]["status"] == "complete"
    assert saved[-1]["content"] == full
    assert saved[-1]["id"] == reply.get_attribute("data-id")


# --- 5. sidebar: rename, pin, share, delete ------------------------------------------------------


def test_sidebar_rename_pin_share_delete(page, user, context):
    expect = _expect()
    other = user.conversation(title="Another chat", message="Other question")
    conversation = user.conversation(title="Trip plans", message="Where should I go?")
    sign_in(page, user, f"/c/{conversation['id']}")
    nav = conversations_nav(page)
    expect(page.get_by_role("heading", name="Trip plans", level=1)).to_be_visible()

    # Rename
    nav.get_by_role("button", name="Options for Trip plans").click()
    page.get_by_role("menuitem", name="Rename").click()
    title = nav.get_by_role("textbox", name="Conversation title")
    expect(title).to_be_focused()
    title.fill("Budget trip")
    title.press("Enter")
    expect(nav.get_by_role("link", name="Budget trip")).to_be_visible()
    expect(nav.get_by_role("link", name="Trip plans")).to_have_count(0)
    expect(page.get_by_role("heading", name="Budget trip", level=1)).to_be_visible()
    page.reload()
    expect(nav.get_by_role("link", name="Budget trip")).to_be_visible()
    assert user.api("GET", f"/api/v1/conversations/{conversation['id']}").json()["title"] == "Budget trip"

    # Pin: under a "Pinned" heading, the other chat not.
    nav.get_by_role("button", name="Options for Budget trip").click()
    page.get_by_role("menuitem", name="Pin").click()
    pinned = nav.get_by_role("region", name="Pinned")
    expect(pinned.get_by_role("heading", name="Pinned")).to_be_visible()
    expect(pinned.get_by_role("link", name="Budget trip")).to_be_visible()
    expect(pinned.get_by_role("link", name="Another chat")).to_have_count(0)
    expect(nav.get_by_role("link", name="Another chat")).to_be_visible()

    # Share: a link whose page shows the conversation, until it is revoked.
    nav.get_by_role("button", name="Options for Budget trip").click()
    page.get_by_role("menuitem", name="Share").click()
    dialog = page.get_by_role("dialog", name="Share conversation")
    dialog.get_by_role("button", name="Create link").click()
    link = dialog.get_by_role("textbox", name="Share link")
    expect(link).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/share/[^/]+/$"))
    url = link.input_value()
    public = context.new_page()
    response = public.goto(url)
    assert response.status == 200
    expect(public.get_by_text("Where should I go?")).to_be_visible()
    expect(public.get_by_text(expected_text(QUICK_TOKENS).strip())).to_be_visible()
    dialog.get_by_role("button", name="Revoke link").click()
    expect(dialog.get_by_role("textbox", name="Share link")).to_have_count(0)
    expect(dialog.get_by_text("No link yet.")).to_be_visible()
    assert public.goto(url).status == 404
    public.close()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    # Delete: confirmed, gone, back to a new chat at /.
    nav.get_by_role("button", name="Options for Budget trip").click()
    page.get_by_role("menuitem", name="Delete").click()
    confirm = page.get_by_role("dialog", name="Delete chat?")
    confirm.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(f"{user.base}/")
    expect(nav.get_by_role("link", name="Budget trip")).to_have_count(0)
    expect(nav.get_by_role("link", name="Another chat")).to_be_visible()
    expect(page.get_by_role("heading", name="New chat", level=1)).to_be_visible()
    assert user.api("GET", f"/api/v1/conversations/{conversation['id']}").status_code == 404
    assert user.api("GET", f"/api/v1/conversations/{other['id']}").status_code == 200


# --- 6. a phone ----------------------------------------------------------------------------------


def test_phone_width_no_horizontal_scroll_and_drawer(page, user):
    expect = _expect()
    page.set_viewport_size({"width": 360, "height": 740})
    conversation = user.conversation(model="markdown", title="Wide content", message="Show me wide things")
    sign_in(page, user, f"/c/{conversation['id']}")
    reply = replies(page, MARKDOWN)
    expect(reply.get_by_role("table")).to_be_visible()
    expect(reply.locator("pre code")).to_be_visible()

    widths = page.evaluate(
        """() => {
            const wrap = document.querySelector('.table-wrap'), pre = document.querySelector('.markdown pre');
            const box = document.getElementById('messages');
            return {doc: document.documentElement.scrollWidth, body: document.body.scrollWidth,
                    box: box.scrollWidth, boxClient: box.clientWidth,
                    table: wrap.scrollWidth, tableClient: wrap.clientWidth,
                    pre: pre.scrollWidth, preClient: pre.clientWidth};
        }"""
    )
    assert widths["doc"] <= 360 and widths["body"] <= 360, widths
    assert widths["box"] <= widths["boxClient"], widths
    # The long code line is wider than the screen and scrolls inside its own block; the table's
    # cells wrap (or it scrolls in its own wrapper): neither widens the page.
    assert widths["pre"] > widths["preClient"], widths
    assert widths["tableClient"] <= widths["boxClient"], widths
    sanitiser_parsed_hostile_html(page)

    sidebar = page.get_by_role("complementary", name="Sidebar")
    link = page.get_by_role("link", name="Wide content")
    opener = page.get_by_role("button", name="Open sidebar")
    expect(sidebar).to_be_hidden()
    expect(link).to_be_hidden()
    expect(opener).to_have_attribute("aria-expanded", "false")
    opener.click()
    expect(opener).to_have_attribute("aria-expanded", "true")
    expect(sidebar).to_be_visible()
    expect(link).to_be_visible()
    expect(page.get_by_role("button", name="New chat")).to_be_focused()
    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    expect(link).to_be_hidden()
    expect(opener).to_have_attribute("aria-expanded", "false")
    # Opened again, picking the conversation closes the drawer.
    opener.click()
    link.click()
    expect(link).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_phone_drawer_closed_by_keyboard_gives_focus_back(page, user):
    expect = _expect()
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, user)
    opener = page.get_by_role("button", name="Open sidebar")
    opener.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="New chat")).to_be_focused()
    # The drawer's own close button hands focus back to the button that opened it...
    page.get_by_role("button", name="Close sidebar").click()
    expect(opener).to_be_focused()
    opener.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="New chat")).to_be_focused()
    # ...and so must Escape, or keyboard focus is left on a control that is no longer visible.
    page.keyboard.press("Escape")
    expect(page.get_by_role("complementary", name="Sidebar")).to_be_hidden()
    expect(opener).to_be_focused(timeout=2000)


def test_phone_escape_in_a_drawer_menu_closes_only_the_menu(page, user):
    expect = _expect()
    page.set_viewport_size({"width": 360, "height": 740})
    user.conversation(title="Menu in drawer")
    sign_in(page, user)
    page.get_by_role("button", name="Open sidebar").click()
    options = conversations_nav(page).get_by_role("button", name="Options for Menu in drawer")
    options.click()
    menu = page.get_by_role("menu", name="Options for Menu in drawer")
    expect(menu.get_by_role("menuitem", name="Rename")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(page.get_by_role("complementary", name="Sidebar")).to_be_visible(timeout=2000)
    expect(options).to_be_focused(timeout=2000)


# --- 7. dark theme -------------------------------------------------------------------------------


def _background(page) -> tuple[int, ...]:
    colour = page.evaluate("getComputedStyle(document.body).backgroundColor")
    return tuple(int(v) for v in re.findall(r"\d+", colour)[:3])


def test_dark_theme_is_saved(page, user, browser, server):
    expect = _expect()
    sign_in(page, user)
    assert sum(_background(page)) > 600  # light to begin with
    page.get_by_role("button", name="Settings", exact=True).click()
    dialog = page.get_by_role("dialog", name="Settings")
    expect(dialog.get_by_role("tab", name="General")).to_have_attribute("aria-selected", "true")
    dialog.get_by_role("radio", name="Dark").check()

    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert sum(_background(page)) < 200, _background(page)
    deadline = time.monotonic() + 10
    while user.api("GET", "/api/v1/user/settings").json()["theme"] != "dark" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert user.api("GET", "/api/v1/user/settings").json()["theme"] == "dark"

    page.reload()
    expect(page.get_by_role("button", name="New chat")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert sum(_background(page)) < 200
    # Another browser (nothing in its storage) takes the theme from the user's settings.
    fresh = browser.new_context(base_url=server.base, color_scheme="light")
    try:
        other = fresh.new_page()
        sign_in(other, user)
        expect(other.locator("html")).to_have_attribute("data-theme", "dark")
        assert sum(_background(other)) < 200
    finally:
        fresh.close()


# --- 8. keyboard only ----------------------------------------------------------------------------


def test_keyboard_composer_and_options_menu(page, user):
    expect = _expect()
    conversation = user.conversation(title="Keyboard chat", message="Hi")
    sign_in(page, user, f"/c/{conversation['id']}")
    expect(replies(page)).to_have_attribute("data-status", "complete")
    composer(page).focus()
    page.keyboard.type("Typed with keys")
    page.keyboard.press("Tab")
    expect(send_button(page)).to_be_focused()

    options = conversations_nav(page).get_by_role("button", name="Options for Keyboard chat")
    options.focus()
    page.keyboard.press("Enter")
    menu = page.get_by_role("menu", name="Options for Keyboard chat")
    expect(menu).to_be_visible()
    expect(options).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("menuitem", name="Rename")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Pin")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(options).to_be_focused()
    expect(options).to_have_attribute("aria-expanded", "false")
    # The draft is still there, and Enter from the composer sends it.
    composer(page).focus()
    page.keyboard.press("Enter")
    expect(question_texts(page).last).to_have_text("Typed with keys")
    wait_finished(page, replies(page).last)


# --- 9. copy a message ---------------------------------------------------------------------------


def test_copy_message_to_clipboard(page, user, context, server):
    expect = _expect()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base)
    conversation = user.conversation(title="Copy me", message="Something to copy")
    sign_in(page, user, f"/c/{conversation['id']}")
    reply = replies(page)
    expect(reply).to_have_attribute("data-status", "complete")
    reply.get_by_role("button", name="Copy message").click()
    expect(page.get_by_role("status").filter(has_text="Copied")).to_have_count(1)
    assert page.evaluate("navigator.clipboard.readText()") == expected_text(QUICK_TOKENS)
    questions(page).get_by_role("button", name="Copy message").click()
    deadline = time.monotonic() + 5
    while page.evaluate("navigator.clipboard.readText()") != "Something to copy" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert page.evaluate("navigator.clipboard.readText()") == "Something to copy"


# --- 10. two tabs --------------------------------------------------------------------------------


def test_second_tab_follows_a_reply_sent_in_the_first(context, user):
    expect = _expect()
    conversation = user.conversation(model="resume", title="Two tabs")
    first = context.new_page()
    sign_in(first, user, f"/c/{conversation['id']}")
    second = context.new_page()  # same browser: signed in through the stored session
    second.goto(f"/c/{conversation['id']}")
    expect(second.get_by_role("heading", name="Two tabs", level=1)).to_be_visible()
    expect(messages_log(second).get_by_role("article")).to_have_count(0)

    composer(first).fill("Sent from the first tab")
    composer(first).press("Enter")

    expect(question_texts(second)).to_have_text("Sent from the first tab")
    reply = replies(second, RESUME)
    expect(reply).to_have_attribute("data-status", "streaming")
    expect(stop_button(second)).to_be_visible()
    expect(body(reply)).to_contain_text("t5 ")
    wait_finished(second, reply)
    wait_finished(first, replies(first, RESUME))
    assert shown_text(reply) == shown_text(replies(first, RESUME)) == expected_text(RESUME_TOKENS).strip()
    expect(replies(second, RESUME)).to_have_count(1)
    expect(questions(second)).to_have_count(1)


# --- 11. regenerate and edit ---------------------------------------------------------------------


def test_regenerate_replaces_the_last_reply(page, user, server):
    expect = _expect()
    conversation = user.conversation(title="Again", message="Answer twice")
    sign_in(page, user, f"/c/{conversation['id']}")
    reply = replies(page)
    expect(reply).to_have_attribute("data-status", "complete")
    old_id = reply.get_attribute("data-id")

    reply.get_by_role("button", name="Regenerate").click()

    expect(replies(page)).to_have_count(1)
    expect(replies(page)).not_to_have_attribute("data-id", old_id)
    wait_finished(page, replies(page))
    expect(replies(page)).to_have_count(1)
    expect(questions(page)).to_have_count(1)
    expect(question_texts(page)).to_have_text("Answer twice")
    assert shown_text(replies(page)) == expected_text(QUICK_TOKENS).strip()
    saved = user.messages(conversation["id"])
    assert [m["role"] for m in saved] == ["user", "assistant"]
    assert saved[-1]["id"] == replies(page).get_attribute("data-id") != old_id


def test_edit_replaces_the_last_question(page, user, server):
    expect = _expect()
    conversation = user.conversation(title="Edit me", message="Original question")
    sign_in(page, user, f"/c/{conversation['id']}")
    expect(replies(page)).to_have_attribute("data-status", "complete")
    old_reply = replies(page).get_attribute("data-id")

    questions(page).get_by_role("button", name="Edit message").click()
    field = page.get_by_role("textbox", name="Edited message")
    expect(field).to_be_focused()
    expect(field).to_have_value("Original question")
    field.fill("Changed question")
    page.get_by_role("button", name="Send edited message").click()

    expect(questions(page)).to_have_count(1)
    expect(question_texts(page)).to_have_text("Changed question")
    expect(replies(page)).not_to_have_attribute("data-id", old_reply)
    wait_finished(page, replies(page))
    expect(replies(page)).to_have_count(1)
    saved = user.messages(conversation["id"])
    assert [(m["role"], m["status"]) for m in saved] == [("user", "complete"), ("assistant", "complete")]
    assert saved[0]["content"] == "Changed question"


# --- 12. settings: devices, plan -----------------------------------------------------------------


def test_settings_devices_and_plan(page, user):
    expect = _expect()
    user.conversation(message="Counted today")  # one message of today's quota
    sign_in(page, user)
    page.get_by_role("button", name="Settings", exact=True).click()
    dialog = page.get_by_role("dialog", name="Settings")

    dialog.get_by_role("tab", name="Devices").click()
    expect(dialog.get_by_role("tab", name="Devices")).to_have_attribute("aria-selected", "true")
    devices = dialog.get_by_role("list", name="Signed-in devices").get_by_role("listitem")
    expect(devices).to_have_count(2)  # this browser and the test's API session
    this = devices.filter(has_text="(this device)")
    expect(this).to_have_count(1)
    expect(this).to_contain_text("Web: Chrome")
    expect(devices.filter(has_text="pytest")).not_to_contain_text("(this device)")

    dialog.get_by_role("tab", name="Plan").click()
    expect(dialog.get_by_role("tab", name="Plan")).to_have_attribute("aria-selected", "true")
    expect(dialog.get_by_role("tabpanel")).to_contain_text(re.compile(r"(?<!\d)1 of \d+ messages used today"))
    expect(dialog.locator("#storage")).to_have_text("0 bytes of 1 GiB of file storage used")


# --- 13. collector -------------------------------------------------------------------------------


def test_collector_note_with_tag(page, user):
    expect = _expect()
    sign_in(page, user)
    page.get_by_role("button", name="Collector").click()
    dialog = page.get_by_role("dialog", name="Collector")
    items = dialog.get_by_role("list", name="Collector items")
    expect(items).to_contain_text("Nothing collected yet.")

    for title, text, tags in (
        ("Packing list", "Socks, a hat", "travel, todo"),
        ("Quarterly report", "Numbers", "work"),
    ):
        dialog.get_by_label("Kind of item").select_option("note")
        dialog.get_by_role("textbox", name="Title").fill(title)
        dialog.get_by_role("textbox", name="Note text").fill(text)
        dialog.get_by_role("textbox", name="Tags").fill(tags)
        dialog.get_by_role("button", name="Add item").click()
        expect(items.get_by_role("listitem").filter(has_text=title)).to_have_count(1)

    packing = items.get_by_role("listitem").filter(has_text="Packing list")
    expect(packing).to_contain_text("(note)")
    expect(packing).to_contain_text("Socks, a hat")
    expect(packing).to_contain_text("travel")
    expect(items.get_by_role("listitem")).to_have_count(2)

    tag = dialog.get_by_role("combobox", name="Filter by tag")
    expect(tag.get_by_role("option")).to_have_count(4)  # All tags, todo, travel, work
    tag.select_option("travel")
    expect(items.get_by_role("listitem")).to_have_count(1)
    expect(items.get_by_role("listitem")).to_contain_text("Packing list")
    tag.select_option("work")
    expect(items.get_by_role("listitem")).to_have_count(1)
    expect(items.get_by_role("listitem")).to_contain_text("Quarterly report")
    saved = user.api("GET", "/api/v1/collector/items?tag=travel").json()
    assert [item["title"] for item in saved["results"]] == ["Packing list"], json.dumps(saved)


def test_continue_a_share_asks_before_copying_it(page, user, server):
    """A link from anywhere (/?continue_share=<id>) must not write into the account unasked."""
    expect = _expect()
    owner = User(server.base, user.email, user.headers)
    conversation = owner.conversation(message="Share me", title="Shared plan")
    share = owner.api("POST", "/api/v1/shares", json={"conversation_id": conversation["id"]}).json()
    before = owner.api("GET", "/api/v1/conversations").json()["count"]

    sign_in(page, user, f"/?continue_share={share['id']}")
    dialog = page.get_by_role("dialog", name="Continue this shared conversation?")
    expect(dialog).to_contain_text("Shared plan")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert "continue_share" not in page.url
    assert owner.api("GET", "/api/v1/conversations").json()["count"] == before

    page.goto(f"/?continue_share={share['id']}")
    dialog = page.get_by_role("dialog", name="Continue this shared conversation?")
    dialog.get_by_role("button", name="Add a copy").click()
    expect(page).to_have_url(re.compile(r"/c/[0-9a-f-]{36}$"))
    expect(question_texts(page)).to_have_text(["Share me"])
    assert owner.api("GET", "/api/v1/conversations").json()["count"] == before + 1
