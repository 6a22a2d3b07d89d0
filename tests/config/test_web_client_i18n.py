"""The web client in Korean and in English, in a real browser.

Chromium with ``locale="ko-KR"`` and ``timezoneId="Asia/Seoul"`` (a Korean user in Seoul), and
again in ``en-US``: sign-up to a first reply, the sidebar's days, Settings, a share link copied,
each screen walked for any English UI word left in Korean (or Korean left in English). The walk
reads what a person reads: the visible text, plus the ``aria-label``, ``placeholder`` and ``title``
a screen reader or a hover shows. What is not the UI's to translate is set aside: what the model
replied and what the user typed (``.msg .body``), the admin's content (the prompt library's
starters, model and plan names), e-mail addresses, links, IANA zone names, and a few names
(brands, "API").

The server, browser and failure screenshots are test_web_client.py's; this module starts its own
server, whose environment it keeps (to date conversations in the past).
"""

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.config.test_web_client import (  # noqa: F401 (fixtures used by name)
    PASSWORD,
    QUICK,
    QUICK_TOKENS,
    Server,
    _expect,
    _login,
    _screenshots_on_failure,
    browser,
    pytestmark,
)
from tests.conversations.upstream import expected_text, upstream  # noqa: F401
from testsupport.servers import ServerProcess, manage, own_database, server_env

KOREAN = {"locale": "ko-KR", "timezone_id": "Asia/Seoul"}
ENGLISH = {"locale": "en-US", "timezone_id": "America/New_York"}
SEOUL = ZoneInfo("Asia/Seoul")

# Words that stay as they are in a Korean UI: names of products and companies, and acronyms.
NAMES = {"API", "URL", "OpenAI", "ChatGPT", "Google", "GitHub", "Web", "Chrome", "Linux", "English", "UTC", "GMT"}
NAMES |= {"KiB", "MiB", "GiB", "JSON"}  # units and file formats
# Not the UI's words: the model's reply and the user's own text, the prompt library's starters
# (the admin's content), the list of time zones (place names: IANA's, and ICU's names of zones,
# which for a few zones are the city's own name, "Urumqi 시간").
SET_ASIDE = [".msg .body", ".starter", "#settings-time-zone option"]
HANGUL = re.compile(r"[\uac00-\ud7a3]")

WALK = """(skip) => {
  const texts = [];
  const aside = (el) => skip.some((selector) => el.closest(selector));
  const shown = (el) => {
    if (el.tagName === "OPTION") el = el.closest("select") ?? el;  // a closed list's options are read too
    return el.checkVisibility({ visibilityProperty: true });
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || ["SCRIPT", "STYLE", "NOSCRIPT"].includes(el.tagName) || aside(el) || !shown(el)) continue;
    if (node.textContent.trim()) texts.push(node.textContent.trim());
  }
  for (const el of document.body.querySelectorAll("[aria-label], [placeholder], [title]")) {
    if (aside(el) || !shown(el)) continue;
    for (const name of ["aria-label", "placeholder", "title"]) {
      const value = el.getAttribute(name);
      if (value && value.trim()) texts.push(`${value.trim()}  [${name}]`);
    }
  }
  return texts;
}"""

STRIP = [
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail addresses
    re.compile(r"https?://\S+"),  # links
    re.compile(r"\b[A-Z][A-Za-z_-]*(?:/[A-Za-z0-9_+-]+)+"),  # IANA zones: Asia/Seoul, America/Argentina/Salta
    re.compile(r"[\w-]*\.(?:zip|json|md|pdf|txt)\b"),  # file names and extensions: conversations.json, .zip
    re.compile(r"\[(?:aria-label|placeholder|title)\]"),  # the walk's own note
]


def english_words(texts: list[str], data: tuple[str, ...] = ()) -> list[tuple[str, list[str]]]:
    """Each text that still holds an English word, with the words: what is left once the data
    (names of models, plans, devices...), addresses and the allowed names are taken out."""
    found = []
    for text in texts:
        rest = text
        for pattern in STRIP:
            rest = pattern.sub(" ", rest)
        for value in sorted(data, key=len, reverse=True):
            rest = rest.replace(value, " ")
        words = [w for w in re.findall(r"[A-Za-z]{2,}", rest) if w not in NAMES]
        if words:
            found.append((text, words))
    return found


def assert_korean(page, where: str, data: tuple[str, ...] = ()) -> None:
    texts = page.evaluate(WALK, SET_ASIDE)
    assert texts, f"{where}: nothing to read"
    left = english_words(texts, data)
    assert not left, f"{where}: English left in the Korean UI: {left}"


def assert_english(page, where: str, allowed: tuple[str, ...] = ("한국어",)) -> None:
    texts = page.evaluate(WALK, SET_ASIDE)
    left = [t for t in texts if HANGUL.search(t) and not any(a in t for a in allowed)]
    assert not left, f"{where}: Korean left in the English UI: {left}"


# --- the server, a browser context in a language, a user -----------------------------------------


@dataclass
class I18nServer(Server):
    env: dict = field(default_factory=dict)

    def manage_shell(self, script: str) -> str:
        return manage(self.env, "shell", "-c", script)


@pytest.fixture(scope="module")
def server(tmp_path_factory, upstream):  # noqa: F811
    tmp_path = tmp_path_factory.mktemp("web-client-i18n")
    with own_database(tmp_path, "webclienti18n") as database_url:
        env = server_env(
            database_url,
            tmp_path,
            THROTTLE_REGISTER_IP="1000/hour",
            THROTTLE_LOGIN_IP="1000/min",
            THROTTLE_REFRESH="1000/min",
        )
        manage(env, "migrate", "--noinput")
        manage(
            env,
            "shell",
            "-c",
            "from conversations.models import LLMModel\n"
            "LLMModel.objects.update(enabled=False, is_default=False)\n"
            f"LLMModel.objects.create(provider='openai', base_url={upstream.base_url!r}, slug='quick',\n"
            f"    display_name={QUICK!r}, upstream_model='normal:{QUICK_TOKENS}:0.02', is_default=True,\n"
            "    max_output_tokens=4000, context_window=8192)\n",
        )
        process = ServerProcess(env).start()
        try:
            yield I18nServer(process.base, Path(env["LOG_FILE"]), env)
        finally:
            process.stop()


@pytest.fixture
def context(request, browser, server, tmp_path):  # noqa: F811 (tmp_path: where a failure's screenshots go)
    """A fresh browser context: Korean in Seoul unless the test is parametrized with ENGLISH."""
    options = getattr(request, "param", KOREAN)
    context = browser.new_context(base_url=server.base, color_scheme="light", reduced_motion="reduce", **options)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base)
    context.set_default_timeout(10_000)
    context.problems = []
    context.on("console", lambda m: context.problems.append(m.text) if "Content Security Policy" in m.text else None)
    context.on("weberror", lambda e: context.problems.append(f"uncaught: {e.error}"))
    try:
        yield context
        assert context.problems == [], context.problems
    finally:
        context.close()


@pytest.fixture
def page(context):
    return context.new_page()


class Api:
    def __init__(self, base: str, email: str):
        self.base, self.email, self.headers = base, email, _login(base, email)

    def __call__(self, method: str, path: str, **kwargs) -> httpx.Response:
        return httpx.request(method, f"{self.base}{path}", headers=self.headers, timeout=30, **kwargs)

    def settings(self) -> dict:
        r = self("GET", "/api/v1/user/settings")
        assert r.status_code == 200, r.text
        return r.json()


def register(server, email: str | None = None) -> Api:
    email = email or f"i18n-{uuid.uuid4().hex[:10]}@example.com"
    r = httpx.post(f"{server.base}/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert r.status_code == 202, r.text
    return Api(server.base, email)


def wait_for_setting(page, api: Api, name: str, value: str) -> None:
    for _ in range(50):
        if api.settings()[name] == value:
            return
        page.wait_for_timeout(100)
    assert api.settings()[name] == value


def sign_up_in_browser(page, email: str, *, submit: str) -> None:
    """The sign-up form, by ids (its words are what the tests check)."""
    page.locator("#auth-switch").click()
    expect = _expect()
    expect(page.locator("#auth-form")).to_have_attribute("data-mode", "register")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    expect(page.locator("#auth-submit")).to_have_text(submit)
    page.locator("#auth-submit").click()
    expect(page.locator("#chat")).to_be_visible()


def sign_in_browser(page, email: str) -> None:
    expect = _expect()
    page.goto("/")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#auth-submit").click()
    expect(page.locator("#chat")).to_be_visible()


def first_reply(page, text: str):
    """Sends `text` from the composer and waits for the whole reply."""
    expect = _expect()
    page.locator("#composer-input").fill(text)
    page.locator("#composer-input").press("Enter")
    reply = page.locator(".msg.assistant")
    expect(reply).to_have_count(1)
    expect(reply).to_have_attribute("data-status", "complete", timeout=30_000)
    expect(reply.locator(".body")).to_have_text(expected_text(QUICK_TOKENS).strip())
    return re.search(r"/c/([0-9a-f-]{36})$", page.url).group(1)


def date_conversation(server, conversation_id: str, when: dt.datetime) -> None:
    server.manage_shell(
        "import datetime as dt\n"
        "from conversations.models import Conversation\n"
        f"Conversation.objects.filter(id={conversation_id!r})"
        f".update(updated_at=dt.datetime.fromisoformat({when.isoformat()!r}))\n"
    )


def seoul_day_boundary(now: dt.datetime) -> tuple[dt.datetime, str]:
    """A moment whose day differs between Seoul and UTC, and its group in Seoul: just after Seoul's
    midnight while UTC is still on the day before ("오늘" in Seoul, yesterday in UTC), or, when
    Seoul and UTC are on different dates, just before Seoul's midnight ("어제" in Seoul, today in
    UTC)."""
    midnight = now.astimezone(SEOUL).replace(hour=0, minute=0, second=0, microsecond=0)
    if now.astimezone(dt.UTC).hour < 15:  # Seoul and UTC on the same date
        return midnight + dt.timedelta(minutes=30), "오늘"
    return midnight - dt.timedelta(minutes=30), "어제"


def walk_settings(page, check, data: tuple[str, ...]) -> None:
    """Every tab of the Settings dialog, each once loaded, through `check`."""
    expect = _expect()
    dialog = page.locator("dialog[open]")
    tabs = dialog.get_by_role("tab")
    for index in range(tabs.count()):
        tabs.nth(index).click()
        expect(tabs.nth(index)).to_have_attribute("aria-selected", "true")
        panel = dialog.get_by_role("tabpanel")
        expect(panel.locator("p.muted", has_text=re.compile(r"^(Loading…|불러오는 중…)$"))).to_have_count(0)
        expect(panel).not_to_be_empty()
        check(page, f"settings tab {tabs.nth(index).inner_text()}", data)


# --- Korean, in Seoul ----------------------------------------------------------------------------


def test_korean_user_signs_up_chats_and_shares_without_an_english_word(page, context, server):
    expect = _expect()
    page.goto("/")
    # The first visit follows the browser.
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("heading", name="다시 오신 것을 환영합니다")).to_be_visible()
    assert_korean(page, "sign-in screen")

    page.locator("#auth-switch").click()
    expect(page.get_by_role("heading", name="계정 만들기")).to_be_visible()
    # The password hints are the server's rules, in Korean: needs s-accounts' /auth/password-rules.
    rules = page.locator("#signup-rules li")
    expect(rules.first).to_be_visible()
    assert all(HANGUL.search(text) for text in rules.all_inner_texts()), rules.all_inner_texts()
    expect(page.locator("#password")).to_have_attribute("aria-describedby", "signup-rules")
    assert_korean(page, "sign-up screen")
    page.locator("#auth-switch").click()

    email = f"ko-{uuid.uuid4().hex[:10]}@example.com"
    sign_up_in_browser(page, email, submit="계정 만들기")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    assert_korean(page, "an empty new chat", (QUICK,))  # needs c-chat (the chat view: header, composer, starters)

    conversation_id = first_reply(page, "서울에서 가 볼 만한 곳을 알려 주세요")
    assert_korean(page, "the chat after the first reply", (QUICK,))  # needs c-chat (messages, "Reply finished")

    # Signed in from Seoul: the account took the browser's zone; its language still follows the browser.
    api = Api(server.base, email)
    saved = api.settings()
    assert saved["time_zone"] == "Asia/Seoul", saved
    assert saved["language"] == "", saved

    # The sidebar's days are Seoul's: a chat at a moment whose day differs between Seoul and UTC,
    # and one from weeks ago under its month ("2026년 10월").
    now = dt.datetime.now(dt.UTC)
    boundary, group = seoul_day_boundary(now)
    for title, when in (("경계의 대화", boundary), ("지난달의 대화", now - dt.timedelta(days=45))):
        r = api(
            "POST", "/api/v1/conversations?wait=true", json={"model": "quick", "title": title, "message": "안녕하세요"}
        )
        assert r.status_code == 201, r.text
        date_conversation(server, r.json()["id"], when)
    page.reload()
    nav = page.locator("#sidebar nav")
    expect(nav.get_by_role("region", name=group).get_by_role("link", name="경계의 대화")).to_be_visible()
    expect(nav.get_by_role("region", name="오늘").locator(f"[data-id='{conversation_id}']")).to_have_count(1)
    last_month = (now - dt.timedelta(days=45)).astimezone(SEOUL)
    month = f"{last_month.year}년 {last_month.month}월"
    expect(nav.get_by_role("region", name=month).get_by_role("link", name="지난달의 대화")).to_be_visible()
    assert_korean(page, "the sidebar", (QUICK,))

    # A chat's menu, in Korean.
    page.locator(f".conv[data-id='{conversation_id}'] button[aria-haspopup=menu]").click()
    menu = page.get_by_role("menu")
    items = [
        "이름 바꾸기",
        "고정",
        "보관",
        "공유",
        "JSON으로 내보내기",
        "마크다운으로 내보내기",
        "삭제",
    ]  # export: d-data's
    expect(menu.get_by_role("menuitem")).to_have_text(items)
    assert_korean(page, "a chat's menu", (QUICK,))

    # Share: the link is made and copied; the dialog and the shared page in Korean.
    menu.get_by_role("menuitem", name="공유").click()
    dialog = page.get_by_role("dialog", name="대화 공유")
    dialog.get_by_role("button", name="링크 만들기").click()
    link = dialog.get_by_role("textbox", name="공유 링크")
    expect(link).to_have_value(re.compile(r"/share/[^/]+/$"))
    url = link.input_value()
    assert page.evaluate("navigator.clipboard.readText()") == url
    expect(page.locator("#announcer")).to_have_text("링크를 만들어 복사했습니다")
    assert_korean(page, "the share dialog", (QUICK,))
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    shared = context.new_page()
    assert shared.goto(url).status == 200
    # The shared page is the server's template (templates/sharing): needs the server slice that
    # translates it.
    expect(shared.locator("html")).to_have_attribute("lang", "ko")
    assert_korean(shared, "the shared page", (QUICK, "Chat"))  # "Chat": the site's name (SITE_NAME)
    shared.close()

    # Settings: every tab in Korean, the language following the browser, Seoul's zone chosen.
    page.locator("#open-settings").click()
    expect(page.get_by_role("dialog", name="설정")).to_be_visible()
    expect(page.locator("#settings-language")).to_have_value("")
    expect(page.locator("#settings-time-zone")).to_have_value("Asia/Seoul")
    plan = api("GET", "/api/v1/user/settings/subscription").json()["plan_details"]["name"]
    walk_settings(page, assert_korean, (QUICK, plan, "pytest"))
    page.get_by_role("tab", name="요금제").click()
    expect(page.locator("#quota")).to_have_text(re.compile(r"^오늘 메시지 \d+개 중 \d+개 사용$|^오늘 메시지 \d+개"))
    page.get_by_role("tab", name="비밀번호").click()
    expect(page.locator("#change-rules li").first).to_be_visible()  # needs s-accounts' /auth/password-rules


def test_switching_language_in_settings_applies_at_once_and_persists(page, context, server):
    expect = _expect()
    api = register(server)
    sign_in_browser(page, api.email)
    expect(page.locator("#open-settings")).to_have_text("설정")
    other_tab = context.new_page()  # signed in too: the tabs of a browser share the session
    other_tab.goto("/")
    expect(other_tab.locator("#open-settings")).to_have_text("설정")

    page.locator("#open-settings").click()
    with page.expect_request(lambda r: r.url.endswith("/api/v1/user/settings") and r.method == "PATCH") as sent:
        page.locator("#settings-language").select_option("en")
    # At once: the dialog, the sidebar and <html lang>, without a reload.
    expect(page.get_by_role("dialog", name="Settings")).to_be_visible()
    expect(page.get_by_role("tab", name="General")).to_be_visible()
    expect(page.locator("#open-settings")).to_have_text("Settings")
    expect(page.locator("#new-chat")).to_have_text("New chat")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert sent.value.headers["accept-language"] == "en"
    wait_for_setting(page, api, "language", "en")
    expect(other_tab.locator("#open-settings")).to_have_text("Settings")  # the other tab follows
    expect(other_tab.locator("html")).to_have_attribute("lang", "en")
    other_tab.close()

    # Saved on the account: a reload (and any other device) comes back in English.
    page.reload()
    expect(page.locator("#open-settings")).to_have_text("Settings")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_english(page, "after a reload in English")

    # Back to following the browser (Korean here): Korean at once, saved as "".
    page.locator("#open-settings").click()
    expect(page.locator("#settings-language")).to_have_value("en")
    page.locator("#settings-language").select_option("")
    expect(page.get_by_role("dialog", name="설정")).to_be_visible()
    expect(page.locator("#new-chat")).to_have_text("새 채팅")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    page.keyboard.press("Escape")
    page.reload()
    expect(page.locator("#open-settings")).to_have_text("설정")
    assert api.settings()["language"] == ""


def test_server_errors_come_back_in_the_ui_language(page, server):
    """api.js says the UI's language on every call: a wrong current password is refused in Korean
    (the words are the server's: s-accounts translates them)."""
    expect = _expect()
    api = register(server)
    sign_in_browser(page, api.email)
    page.locator("#open-settings").click()
    page.get_by_role("tab", name="비밀번호").click()
    with page.expect_request(lambda r: r.url.endswith("/api/v1/auth/password/change")) as sent:
        page.get_by_label("현재 비밀번호").fill("Not-the-password-1")
        page.get_by_label("새 비밀번호", exact=True).fill("Another-password-42")
        page.get_by_role("button", name="비밀번호 변경").click()
    assert sent.value.headers["accept-language"] == "ko"
    error = page.locator("dialog[open] .dialog-error")
    expect(error).to_be_visible()
    assert HANGUL.search(error.inner_text()), error.inner_text()
    assert_korean(page, "a refused password change", (QUICK,))  # the chat behind: needs c-chat


# --- English -------------------------------------------------------------------------------------


@pytest.mark.parametrize("context", [ENGLISH], indirect=True)
def test_english_user_gets_the_same_product_in_english(page, server):
    expect = _expect()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    assert_english(page, "sign-in screen")
    email = f"en-{uuid.uuid4().hex[:10]}@example.com"
    page.locator("#auth-switch").click()
    expect(page.locator("#signup-rules li").first).to_be_visible()  # needs s-accounts' /auth/password-rules
    assert_english(page, "sign-up screen")
    page.locator("#auth-switch").click()
    sign_up_in_browser(page, email, submit="Create account")
    conversation_id = first_reply(page, "Where should I travel in spring?")
    assert_english(page, "the chat after the first reply")
    expect(
        page.locator("#sidebar nav").get_by_role("region", name="Today").locator(f"[data-id='{conversation_id}']")
    ).to_have_count(1)

    api = Api(server.base, email)
    assert api.settings()["time_zone"] == "America/New_York"
    assert api.settings()["language"] == ""

    page.locator("#open-settings").click()
    expect(page.get_by_role("dialog", name="Settings")).to_be_visible()
    walk_settings(page, lambda p, where, data: assert_english(p, where), ())


@pytest.mark.parametrize("context", [ENGLISH], indirect=True)
def test_sign_in_screen_language_is_remembered_and_kept_by_a_new_account(page, server):
    expect = _expect()
    page.goto("/")
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    page.get_by_role("combobox", name="Language").select_option("ko")
    expect(page.get_by_role("heading", name="다시 오신 것을 환영합니다")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    page.reload()
    expect(page.get_by_role("heading", name="다시 오신 것을 환영합니다")).to_be_visible()
    assert_korean(page, "sign-in screen, Korean chosen in an English browser")

    email = f"pick-{uuid.uuid4().hex[:10]}@example.com"
    sign_up_in_browser(page, email, submit="계정 만들기")
    expect(page.locator("#open-settings")).to_have_text("설정")
    wait_for_setting(page, Api(server.base, email), "language", "ko")  # saved in the background


# --- Korean text on a phone ----------------------------------------------------------------------

KOREAN_PROSE = (
    "마크다운으로 정리한 여행 계획을 다시 확인해 주시겠어요? 서울에서 부산까지 기차로 이동하고, "
    "해운대 근처 숙소에서 이틀 동안 머무르며 맛집과 전시회를 둘러볼 예정입니다."
)

# The words of `selector`'s text that the browser laid out over more than one line.
BROKEN_WORDS = """(selector) => {
  const broken = [];
  for (const element of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""


def test_korean_words_are_not_broken_on_a_phone(page, server):
    """word-break: keep-all: a line ends between words (어절), never inside one ("마크다운으 / 로"),
    in a message and in a collector item, at 390 px."""
    expect = _expect()
    page.set_viewport_size({"width": 390, "height": 844})
    api = register(server)
    chat = api(
        "POST", "/api/v1/conversations?wait=true", json={"model": "quick", "title": "여행", "message": KOREAN_PROSE}
    )
    assert chat.status_code == 201, chat.text
    note = api("POST", "/api/v1/collector/items", json={"kind": "note", "title": "여행 메모", "content": KOREAN_PROSE})
    assert note.status_code == 201, note.text

    sign_in_browser(page, api.email)
    page.goto(f"/c/{chat.json()['id']}")
    bubble = page.locator(".msg.user .body")
    expect(bubble).to_have_text(KOREAN_PROSE)
    assert bubble.evaluate("(el) => el.getClientRects()[0].height") > 60, "the message should wrap over lines"
    assert page.evaluate(BROKEN_WORDS, ".msg.user .body") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.locator("#open-sidebar").click()
    page.locator("#open-collector").click()
    clip = page.locator(".collector-items .clip")
    expect(clip).to_have_text(KOREAN_PROSE)
    assert clip.evaluate("(el) => el.getClientRects()[0].height") > 40, "the note should wrap over lines"
    assert page.evaluate(BROKEN_WORDS, ".collector-items .clip") == []
