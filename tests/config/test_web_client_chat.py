"""The chat in a real browser, in Korean and in English: an input method's Enter, the header's title,
a phone with Korean text.

As test_web_client.py (whose server, browser, context and user fixtures this module shares):
Debian's chromium, the tests' OpenAI-compatible upstream, one server per module. The Korean pages
are browser contexts with ``locale="ko-KR"`` and ``timezone_id="Asia/Seoul"``, a user whose saved
language is empty (it follows the browser), as a new Korean user's is.

Input methods are driven through the DevTools protocol (``Input.imeSetComposition``,
``Input.insertText``, ``Input.dispatchKeyEvent``), so the keydown events are the browser's own, and
the page records what it received: each test checks that the event it meant to send (an Enter while
``isComposing``, or one with keyCode 229 right after ``compositionend``, as WebKit sends it) is what
the page saw.
"""

import os
import re
import time
from pathlib import Path

import pytest

from tests.config import test_web_client as web
from tests.config.test_web_client import (
    CHROMIUM,
    PASSWORD,
    QUICK,
    RESUME,
    _expect,
    body,
    composer,
    questions,
    replies,
    sign_in,
    wait_finished,
)
from tests.conversations.upstream import expected_text, upstream  # noqa: F401
from testsupport.servers import ServerProcess, manage, own_database, server_env

# test_web_client's browser, fresh context per test (failing on any CSP report), page and user.
browser, context, page, user = web.browser, web.context, web.page, web.user
_screenshots_on_failure = web._screenshots_on_failure

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="needs Debian's chromium (apt-get install chromium)"),
]


# test_web_client's models, and one with a name as long as local models' names are (a phone's header
# must still show the chat's title beside it).
LONG_MODEL = "Llama 3.1 8B Instruct (Q4_K_M, local)"
MODELS = [
    *((slug, name, mode, default) for slug, name, mode, default in web.MODELS),
    ("long", LONG_MODEL, "normal:12:0.02", False),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory, upstream):  # noqa: F811
    tmp_path = tmp_path_factory.mktemp("web-client-chat")
    with own_database(tmp_path, "webchat") as database_url:
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
        manage(
            env,
            "shell",
            "-c",
            "from conversations.models import LLMModel\n"
            "LLMModel.objects.update(enabled=False, is_default=False)\n"
            f"for order, row in enumerate([{rows}]):\n"
            f"    LLMModel.objects.create(provider='openai', base_url={upstream.base_url!r}, order=order,\n"
            "        max_output_tokens=4000, context_window=8192, **row)\n",
        )
        process = ServerProcess(env).start()
        try:
            yield web.Server(process.base, Path(env["LOG_FILE"]))
        finally:
            process.stop()


@pytest.fixture
def korean(browser, server):
    """A browser context of a Korean reader in Seoul (failing on any CSP report or uncaught error)."""
    context = browser.new_context(
        base_url=server.base, locale="ko-KR", timezone_id="Asia/Seoul", color_scheme="light", reduced_motion="reduce"
    )
    context.set_default_timeout(10_000)
    problems = []
    context.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    context.on("weberror", lambda e: problems.append(f"uncaught: {e.error}"))
    try:
        yield context.new_page()
        assert problems == [], problems
    finally:
        context.close()


def sign_in_any_language(page, user, path: str = "/") -> None:
    """Signs in by the form's fields (their names are in the page's language)."""
    page.goto(path)
    page.locator("#email").fill(user.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#auth-submit").click()
    _expect()(page.locator("main#chat")).to_be_visible()


def wait_done(page, article) -> None:
    """As test_web_client.wait_finished, by the buttons' ids (their names are in the page's language)."""
    expect = _expect()
    expect(article).not_to_have_attribute("data-status", re.compile("^(pending|streaming)$"), timeout=30_000)
    expect(page.locator("#send")).to_be_visible()
    expect(page.locator("#stop")).to_be_hidden()


def title_heading(page):
    return page.locator("#chat-title")


def message_box(page):
    return page.locator("#composer-input")


# --- an input method's Enter never sends -----------------------------------------------------------

RECORD_KEYS = """() => {
    window.__keys = [];
    for (const type of ["compositionstart", "compositionend", "keydown"]) {
        document.addEventListener(type, (e) => window.__keys.push(
            {type, key: e.key || "", keyCode: e.keyCode || 0, composing: Boolean(e.isComposing)}), true);
    }
}"""


def _enter(cdp, *, key_code: int) -> None:
    for kind in ("rawKeyDown", "keyUp"):
        cdp.send(
            "Input.dispatchKeyEvent",
            {
                "type": kind,
                "key": "Enter",
                "code": "Enter",
                "windowsVirtualKeyCode": key_code,
                "nativeVirtualKeyCode": key_code,
            },
        )


def _type_hangul_and_press_enter(page, cdp, field, *, order: str) -> None:
    """Composes "안녕" in `field`, then Enter either during the composition (the browser reports
    isComposing) or right after it ended (keyCode 229 and no isComposing, as WebKit sends it)."""
    field.focus()
    page.evaluate("window.__keys = []")
    cdp.send("Input.imeSetComposition", {"text": "안", "selectionStart": 1, "selectionEnd": 1})
    cdp.send("Input.insertText", {"text": "안"})
    cdp.send("Input.imeSetComposition", {"text": "녕", "selectionStart": 1, "selectionEnd": 1})
    if order == "during":
        _enter(cdp, key_code=229)
        cdp.send("Input.insertText", {"text": "녕"})
    else:
        cdp.send("Input.insertText", {"text": "녕"})
        _enter(cdp, key_code=229)
    keys = page.evaluate("window.__keys")
    enters = [k for k in keys if k["type"] == "keydown" and k["keyCode"] == 229]
    assert len(enters) == 1, keys
    ended = [i for i, k in enumerate(keys) if k["type"] == "compositionend"]
    where = keys.index(enters[0])
    if order == "during":
        assert enters[0]["composing"], keys
        assert ended and ended[-1] > where, keys
    else:
        assert not enters[0]["composing"], keys
        assert ended and ended[-1] < where, keys


@pytest.mark.parametrize("order", ["during", "after"])
def test_ime_enter_does_not_send_from_the_composer(korean, user, order):
    expect = _expect()
    page = korean
    conversation = user.conversation(title="입력기 테스트", message="처음 질문")
    sign_in_any_language(page, user, f"/c/{conversation['id']}")
    expect(page.locator("article.msg.assistant")).to_have_attribute("data-status", "complete")
    page.evaluate(RECORD_KEYS)
    cdp = page.context.new_cdp_session(page)
    field = message_box(page)

    _type_hangul_and_press_enter(page, cdp, field, order=order)

    expect(field).to_have_value("안녕")
    time.sleep(0.5)  # a send would have cleared the box and added a question by now
    expect(field).to_have_value("안녕")
    expect(page.locator("article.msg.user")).to_have_count(1)
    # A plain Enter then sends it.
    _enter(cdp, key_code=13)
    expect(page.locator("article.msg.user")).to_have_count(2)
    expect(page.locator("article.msg.user .body").last).to_have_text("안녕")
    expect(field).to_have_value("")
    wait_done(page, page.locator("article.msg.assistant").last)


@pytest.mark.parametrize("order", ["during", "after"])
def test_ime_enter_does_not_send_from_the_edit_box(korean, user, order):
    expect = _expect()
    page = korean
    conversation = user.conversation(title="수정 테스트", message="원래 질문")
    sign_in_any_language(page, user, f"/c/{conversation['id']}")
    expect(page.locator("article.msg.assistant")).to_have_attribute("data-status", "complete")
    old_reply = page.locator("article.msg.assistant").get_attribute("data-id")
    page.locator("article.msg.user").get_by_role("button", name="메시지 수정").click()
    field = page.get_by_role("textbox", name="수정한 메시지")
    expect(field).to_be_focused()
    field.fill("")
    page.evaluate(RECORD_KEYS)
    cdp = page.context.new_cdp_session(page)

    _type_hangul_and_press_enter(page, cdp, field, order=order)

    time.sleep(0.5)
    expect(field).to_have_value("안녕")
    expect(page.locator("article.msg.assistant")).to_have_attribute("data-id", old_reply)
    assert [m["content"] for m in user.messages(conversation["id"])][0] == "원래 질문"
    _enter(cdp, key_code=13)
    expect(page.locator("article.msg.user .body")).to_have_text("안녕")
    expect(page.locator("article.msg.assistant")).not_to_have_attribute("data-id", old_reply)
    wait_done(page, page.locator("article.msg.assistant"))
    assert user.messages(conversation["id"])[0]["content"] == "안녕"


# --- the header's title ------------------------------------------------------------------------------


def test_header_keeps_the_title_after_chat_settings(page, user):
    expect = _expect()
    conversation = user.conversation(title="Trip plans", message="Where should I go?")
    sign_in(page, user, f"/c/{conversation['id']}")
    expect(title_heading(page)).to_have_text("Trip plans")
    page.get_by_role("button", name="Chat settings").click()
    dialog = page.get_by_role("dialog", name="Chat settings")
    dialog.get_by_role("textbox", name="System prompt").fill("Answer briefly.")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(title_heading(page)).to_have_text("Trip plans")
    assert user.api("GET", f"/api/v1/conversations/{conversation['id']}").json()["system_prompt"] == "Answer briefly."


def test_new_chat_with_settings_shows_its_title_after_the_first_reply(page, user):
    expect = _expect()
    item = user.api("POST", "/api/v1/collector/items", json={"kind": "note", "title": "Packing", "content": "Socks"})
    assert item.status_code == 201, item.text
    sign_in(page, user)
    expect(title_heading(page)).to_have_text("New chat")
    page.get_by_role("button", name="Chat settings").click()
    dialog = page.get_by_role("dialog", name="Chat settings")
    dialog.get_by_role("textbox", name="System prompt").fill("Answer briefly.")
    dialog.get_by_role("checkbox").first.check()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(title_heading(page)).to_have_text("New chat")

    composer(page).fill("Plan a weekend in Busan")
    composer(page).press("Enter")
    wait_finished(page, replies(page))
    # The server titles the chat from its first question once the reply is done.
    expect(title_heading(page)).to_have_text("Plan a weekend in Busan")
    assert page.title().startswith("Plan a weekend in Busan · ")


def test_reload_mid_reply_shows_new_chat_then_the_title_never_the_reply(korean, user):
    expect = _expect()
    page = korean
    sign_in_any_language(page, user)
    expect(title_heading(page)).to_have_text("새 채팅")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    page.locator(".model-button").click()
    page.get_by_role("menuitemradio", name=RESUME).click()
    message_box(page).fill("숫자를 세어 주세요")
    message_box(page).press("Enter")
    reply = page.locator("article.msg.assistant")
    expect(body(reply)).to_contain_text("t8 ")

    page.reload()

    expect(page.locator("article.msg.assistant")).to_have_attribute("data-status", "streaming")
    expect(body(page.locator("article.msg.assistant"))).to_contain_text("t1")
    # Mid-reply the chat has no title yet: the header says so, it does not show the reply.
    expect(title_heading(page)).to_have_text("새 채팅")
    wait_done(page, page.locator("article.msg.assistant"))
    expect(title_heading(page)).to_have_text("숫자를 세어 주세요")
    assert not re.search(r"\bt\d+\b", title_heading(page).inner_text())


# --- a phone, in Korean --------------------------------------------------------------------------------

LONG_TITLE = "부산 여행 계획과 맛집 목록을 정리하는 아주 긴 대화 제목입니다"
KOREAN_PROSE = (
    "마크다운으로 정리한 여행 계획을 보여 주세요. 해운대에서 출발해서 광안리를 지나 감천문화마을까지 "
    "하루 동안 천천히 걸어 다니는 일정이면 좋겠습니다. 점심은 돼지국밥으로 하고 저녁은 회를 먹고 싶어요."
)

# Every line break inside an element's text: the characters on either side of it. A break between
# two letters (not after a space, a hyphen or punctuation) cuts a word in two.
LINE_BREAKS = """(element) => {
    const node = element.firstChild;
    const text = node.data, breaks = [];
    let top = null;
    for (let i = 0; i < text.length; i++) {
        const range = document.createRange();
        range.setStart(node, i); range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        if (!rect || !text[i].trim()) continue;
        if (top !== null && rect.top > top + 2) breaks.push([text[i - 1], text[i]]);
        top = rect.top;
    }
    return breaks;
}"""


def test_phone_in_korean_title_prose_and_feedback_box(korean, user):
    expect = _expect()
    page = korean
    page.set_viewport_size({"width": 390, "height": 844})
    conversation = user.conversation(model="long", title=LONG_TITLE, message=KOREAN_PROSE)
    for question in ("해운대 근처 숙소도 알려 주세요", KOREAN_PROSE):
        r = user.api(
            "POST", f"/api/v1/conversations/{conversation['id']}/messages?wait=true", json={"content": question}
        )
        assert r.status_code == 201, r.text
    sign_in_any_language(page, user, f"/c/{conversation['id']}")
    expect(page.locator("article.msg.assistant")).to_have_count(3)
    expect(page.locator("article.msg.assistant").last).to_have_attribute("data-status", "complete")

    # No horizontal scroll.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate("document.body.scrollWidth") <= 390

    # The title is shown (cut with an ellipsis), not squeezed away by the model picker.
    heading = title_heading(page)
    expect(heading).to_be_visible()
    expect(heading).to_have_text(LONG_TITLE)
    box = heading.bounding_box()
    picker = page.locator(".model-button").bounding_box()
    assert box["width"] >= 88, box  # at least 6rem: "부산 여행 계획과…"
    assert box["x"] + box["width"] <= picker["x"], (box, picker)
    assert picker["x"] + picker["width"] <= 390, picker
    fit = page.evaluate(
        "(() => { const h = document.getElementById('chat-title'); const s = getComputedStyle(h);"
        " return {overflow: s.textOverflow, scroll: h.scrollWidth, client: h.clientWidth}; })()"
    )
    assert fit["overflow"] == "ellipsis" and fit["scroll"] > fit["client"], fit

    # Korean words are not cut in the middle: every line of the bubble ends at a space.
    bubble = page.locator("article.msg.user .body").last
    style = bubble.evaluate("(e) => [getComputedStyle(e).wordBreak, getComputedStyle(e).overflowWrap]")
    assert style == ["keep-all", "anywhere"], style
    breaks = bubble.evaluate(LINE_BREAKS)
    assert len(breaks) >= 2, breaks  # the text does wrap
    assert all(not before.strip() or before in ".,!?" for before, _ in breaks), breaks
    markdown = page.evaluate("getComputedStyle(document.querySelector('.msg .body.markdown')).wordBreak")
    assert markdown == "keep-all"

    # The comment box of a thumbs-down opens above the composer, all of it on the screen.
    last = page.locator("article.msg.assistant").last
    last.get_by_role("button", name="별로인 답변").click()
    form = page.locator(".feedback-form")
    expect(form).to_be_visible()
    expect(form.get_by_role("textbox", name="피드백 의견")).to_be_focused()
    expect(form.get_by_role("button", name="피드백 보내기")).to_be_visible()
    time.sleep(0.3)  # any scrolling settles
    form_box = form.bounding_box()
    composer_box = page.locator("#composer").bounding_box()
    assert form_box["y"] >= 0, form_box
    assert form_box["y"] + form_box["height"] <= composer_box["y"], (form_box, composer_box)
    assert form_box["x"] >= 0 and form_box["x"] + form_box["width"] <= 390, form_box
    form.get_by_role("textbox", name="피드백 의견").fill("일정이 너무 빡빡해요")
    form.get_by_role("button", name="피드백 보내기").click()
    expect(form).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


# --- no English left in the chat, in Korean ---------------------------------------------------------

ENGLISH = re.compile(
    r"\b(?:New chat|Send|Stop|Copy|Regenerate|Good reply|Bad reply|Edit|Attach|Message|Messages|"
    r"Chat settings|Ask anything|How can I help|Sources|You said|said|Choose|Model)\b"
)


def test_chat_in_korean_has_no_english_label(korean, user):
    expect = _expect()
    page = korean
    conversation = user.conversation(title="한국어 채팅", message="안녕하세요")
    sign_in_any_language(page, user, f"/c/{conversation['id']}")
    expect(page.locator("article.msg.assistant")).to_have_attribute("data-status", "complete")
    expect(page.locator("article.msg.user")).to_have_attribute("aria-label", "내 메시지")
    expect(message_box(page)).to_have_attribute("placeholder", "무엇이든 물어보세요")
    labels = page.evaluate(
        """() => [...document.querySelectorAll('#chat [aria-label], #chat [title], #chat [placeholder]')]
              .flatMap((e) => [e.getAttribute('aria-label'), e.getAttribute('title'), e.getAttribute('placeholder')])
              .filter(Boolean)"""
    )
    english = [label for label in labels if ENGLISH.search(label.replace(QUICK, ""))]
    assert english == [], english
    page.get_by_role("button", name="채팅 설정").click()
    dialog = page.get_by_role("dialog", name="채팅 설정")
    expect(dialog.get_by_role("textbox", name="시스템 프롬프트")).to_be_visible()
    expect(dialog).to_contain_text("컬렉터")


def test_a_reply_takes_one_request_send_regenerate_and_edit(page, user):
    """Issue 25: the web client asks for each reply with one request (its answer is the reply's
    stream), not a POST and then GET /stream."""
    expect = _expect()
    asked = []

    def record(request):
        if "/api/v1/conversations" in request.url:
            asked.append((request.method, request.url.split("/api/v1")[-1], request.headers.get("accept", "")))

    page.on("request", record)
    sign_in(page, user)
    composer(page).fill("First question")
    composer(page).press("Enter")
    wait_finished(page, replies(page))
    composer(page).fill("Second question")
    composer(page).press("Enter")
    expect(replies(page)).to_have_count(2)
    wait_finished(page, replies(page).last)

    old_id = replies(page).last.get_attribute("data-id")
    replies(page).last.get_by_role("button", name="Regenerate").click()
    expect(replies(page).last).not_to_have_attribute("data-id", old_id)
    wait_finished(page, replies(page).last)

    old_id = replies(page).last.get_attribute("data-id")
    questions(page).last.get_by_role("button", name="Edit message").click()
    page.get_by_role("textbox", name="Edited message").fill("Changed question")
    page.get_by_role("button", name="Send edited message").click()
    expect(replies(page).last).not_to_have_attribute("data-id", old_id)
    wait_finished(page, replies(page).last)

    expect(replies(page)).to_have_count(2)
    expect(questions(page).last.locator(".body")).to_have_text("Changed question")
    for reply in replies(page).all():
        assert web.shown_text(reply) == expected_text(web.QUICK_TOKENS).strip()
    posts = [(path, accept) for method, path, accept in asked if method == "POST"]
    kinds = [path.rsplit("/", 1)[-1] for path, _accept in posts]
    assert kinds == ["conversations", "messages", "regenerate", "messages"], posts
    assert all(accept == "text/event-stream" for _path, accept in posts), posts
    assert not [path for _method, path, _accept in asked if "/stream" in path], asked
