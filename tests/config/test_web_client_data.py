"""Settings › Data controls and a chat's Export, in a real browser set up as a Korean user's (chromium,
``ko-KR``, ``Asia/Seoul``) against a real server process and job worker.

Importing a ChatGPT export as ChatGPT makes it (a zip with ``conversations.json``: message trees of
``mapping`` nodes with ``parent`` and ``children``, author roles, content parts, ``create_time``;
tests/portability/chatgpt_export.py's conversations plus a Korean one and a broken one): the job's
counts and the broken conversation's error, in Korean, and the imported chats in the sidebar without
a reload. Exporting all data (queued, then a link; the zip downloaded and read). One chat exported as
Markdown from its menu. Deleting the account: a wrong password's error as the API words it, then the
right one (signed out; signing in again fails); an account without a password (a social sign-up)
deleting itself with the phrase the API asks for.

The browser signs in with tokens the API gave (put where the client keeps them) and finds the
controls of other areas by their ids, so these tests do not depend on words other areas choose;
this area's own words come from its catalog (frontend/src/locales/data.js). The server, browser and
the failure screenshots are test_web_client.py's, with a job worker beside the server as in
test_web_client_files.py.
"""

import io
import json
import os
import re
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.config import test_web_client as web
from tests.config.test_web_client import CHROMIUM, PASSWORD, Server, User, _expect
from tests.conversations.upstream import upstream  # noqa: F401
from tests.portability import chatgpt_export as chatgpt
from testsupport.servers import ROOT, ServerProcess, manage, own_database, server_env

browser = web.browser
_screenshots_on_failure = web._screenshots_on_failure

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="needs Debian's chromium (apt-get install chromium)"),
]

# The client's own words for this area, Korean (the browser's language here).
KO = {
    "tab": "데이터 제어",
    "file": "ChatGPT 내보내기 파일(.zip 또는 .json)",
    "import": "가져오기",
    "export": "데이터 내보내기",
    "download": "내보내기 파일 다운로드",
    "markdown": "마크다운으로 내보내기",
    "password": "비밀번호",
    "delete": "내 계정 삭제",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory, upstream):  # noqa: F811
    tmp_path = tmp_path_factory.mktemp("web-client-data")
    with own_database(tmp_path, "webdata") as database_url:
        env = server_env(
            database_url,
            tmp_path,
            THROTTLE_REGISTER_IP="1000/hour",
            THROTTLE_LOGIN_IP="1000/min",
            THROTTLE_REFRESH="1000/min",
            DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
        )
        manage(env, "migrate", "--noinput")
        manage(
            env,
            "shell",
            "-c",
            "from conversations.models import LLMModel\n"
            "LLMModel.objects.update(enabled=False, is_default=False)\n"
            f"LLMModel.objects.create(provider='openai', base_url={upstream.base_url!r}, slug='quick',\n"
            "    display_name='Quick test model', upstream_model='normal:8:0.01', is_default=True,\n"
            "    max_output_tokens=4000, context_window=8192)\n",
        )
        worker_log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115
        worker = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
            [sys.executable, "manage.py", "jobs_worker", "--interval", "0.2", "--no-startup-delay"],
            cwd=ROOT,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        process = ServerProcess(env).start()
        try:
            running = Server(process.base, Path(env["LOG_FILE"]))
            running.env = env  # for manage.py commands of the tests
            yield running
        finally:
            process.stop()
            worker.terminate()
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()
            worker_log.close()


# The browser's language and zone: a Korean user's in Seoul unless a test asks for English.
LOCALES = {"ko": ("ko-KR", "Asia/Seoul"), "en": ("en-US", "America/New_York")}


@pytest.fixture
def language() -> str:
    return "ko"


@pytest.fixture
def context(browser, server, tmp_path, language):
    locale, zone = LOCALES[language]
    context = browser.new_context(
        base_url=server.base, locale=locale, timezone_id=zone, color_scheme="light", reduced_motion="reduce"
    )
    context.set_default_timeout(10_000)
    # As test_web_client's context: nothing the client does may be refused by the page's CSP, nor
    # throw where nobody catches it.
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


@pytest.fixture
def user(server) -> User:
    email = f"data-{uuid.uuid4().hex[:10]}@example.com"
    r = httpx.post(f"{server.base}/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert r.status_code == 202, r.text
    return User(server.base, email, web._login(server.base, email))


# --- the page --------------------------------------------------------------------------------------


def sign_in(page, user: User, language: str = "ko") -> None:
    """Signed in as the client keeps a session (its refresh token in localStorage), with tokens the
    API gave to this browser's own device id."""
    expect = _expect()
    device = f"browser-{uuid.uuid4().hex[:8]}"
    body = {"email": user.email, "password": PASSWORD, "device_id": device, "device_name": "Web: Chrome"}
    r = httpx.post(f"{user.base}/api/v1/auth/login", json=body)
    assert r.status_code == 200, r.text
    page.goto("/")
    page.evaluate(
        "([refresh, device]) => { localStorage.setItem('chat.refresh', refresh);"
        " localStorage.setItem('chat.device_id', device); }",
        [r.json()["refresh"], device],
    )
    page.reload()
    expect(page.locator("#sidebar")).to_be_attached()
    expect(page.locator("html")).to_have_attribute("lang", language)


def api_ko(user: User, method: str, path: str, **kwargs) -> httpx.Response:
    """The API as the Korean browser is answered (the server words its messages for this language)."""
    headers = {**user.headers, "Accept-Language": "ko"}
    return httpx.request(method, f"{user.base}{path}", headers=headers, timeout=30, **kwargs)


def open_data_controls(page, tab: str = KO["tab"]):
    expect = _expect()
    page.locator("#open-settings").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_role("tab", name=tab).click()
    expect(dialog.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
    return dialog.get_by_role("tabpanel")


def sidebar_list(page):
    return page.locator("#conversation-list")


# --- a ChatGPT export as ChatGPT makes it ------------------------------------------------------------

KOREAN_TITLE = "서울 여행 계획"
BROKEN_TITLE = "망가진 대화"


def korean_conversation() -> dict:
    """A Korean chat with a regenerated reply (``current_node`` on the second one)."""
    m = chatgpt._message
    nodes = [
        ("root", None, None),
        ("q", m("q", "user", ["서울에서 2박 3일 여행 코스를 추천해 주세요."], 200), "root"),
        ("a-old", m("a-old", "assistant", ["첫 번째 답변입니다."], 210), "q"),
        ("a", m("a", "assistant", ["첫째 날은 경복궁과 북촌 한옥마을을 둘러보세요."], 220), "q"),
        ("q2", m("q2", "user", ["둘째 날은요?"], 230), "a"),
        ("a2", m("a2", "assistant", ["둘째 날은 한강 공원에서 자전거를 타 보세요."], 240), "q2"),
    ]
    return {
        "title": KOREAN_TITLE,
        "create_time": chatgpt.T0 + 200,
        "update_time": chatgpt.T0 + 240,
        "mapping": chatgpt._tree(nodes),
        "current_node": "a2",
        "id": "6f1c0c2e-0000-4000-8000-00000000000a",
        "conversation_id": "6f1c0c2e-0000-4000-8000-00000000000a",
    }


def broken_conversation() -> dict:
    """Cut off where its message tree should be."""
    return {"title": BROKEN_TITLE, "create_time": chatgpt.T0 + 300, "update_time": chatgpt.T0 + 300}


def chatgpt_zip() -> bytes:
    conversations = [chatgpt.trip_conversation(), korean_conversation(), broken_conversation()]
    conversations.append(chatgpt.recipe_conversation())
    return chatgpt.as_zip(conversations)


# --- tests -------------------------------------------------------------------------------------------


def test_import_a_chatgpt_export_shows_counts_and_errors_and_the_chats(page, user):
    expect = _expect()
    sign_in(page, user)
    expect(sidebar_list(page)).not_to_contain_text(KOREAN_TITLE)
    panel = open_data_controls(page)

    panel.get_by_label(KO["file"]).set_input_files(
        {"name": "chatgpt-export.zip", "mimeType": "application/zip", "buffer": chatgpt_zip()}
    )
    panel.get_by_role("button", name=KO["import"], exact=True).click()

    expect(panel).to_contain_text("chatgpt-export.zip: 가져오기가 끝났습니다.", timeout=30_000)
    expect(panel).to_contain_text("대화 3개를 가져왔습니다.")
    expect(panel).to_contain_text("대화 1개는 가져오지 못했습니다:")
    # Each failed conversation by its title, with the job's own words for what is wrong with it.
    r = api_ko(user, "GET", "/api/v1/imports")
    job = r.json()["results"][0]
    assert (job["status"], job["conversations_imported"], job["conversations_failed"]) == ("done", 3, 1), job
    [error] = job["errors"]
    assert error["title"] == BROKEN_TITLE and error["index"] == 2, error
    errors = panel.get_by_role("list", name="대화 1개는 가져오지 못했습니다:").get_by_role("listitem")
    expect(errors).to_have_text([f"{BROKEN_TITLE}: {error['error']}"])

    # The sidebar has them without a reload; the Korean chat kept the branch its user last saw.
    expect(sidebar_list(page)).to_contain_text(KOREAN_TITLE)
    expect(sidebar_list(page)).to_contain_text("Pancakes")
    expect(sidebar_list(page)).not_to_contain_text(BROKEN_TITLE)
    page.keyboard.press("Escape")
    sidebar_list(page).get_by_role("link", name=KOREAN_TITLE).click()
    log = page.get_by_role("log")
    expect(log).to_contain_text("첫째 날은 경복궁과 북촌 한옥마을을 둘러보세요.")
    expect(log).to_contain_text("둘째 날은 한강 공원에서 자전거를 타 보세요.")
    expect(log).not_to_contain_text("첫 번째 답변입니다.")

    # The same file again: nothing new (every conversation is already here), said as a count.
    panel = open_data_controls(page)
    panel.get_by_label(KO["file"]).set_input_files(
        {"name": "chatgpt-export.zip", "mimeType": "application/zip", "buffer": chatgpt_zip()}
    )
    panel.get_by_role("button", name=KO["import"], exact=True).click()
    expect(panel).to_contain_text("3개는 이미 있거나 내용이 없어 건너뛰었습니다.", timeout=30_000)
    expect(panel).to_contain_text("대화 0개를 가져왔습니다.")


@pytest.mark.parametrize("language", ["en"])
def test_import_in_english_from_a_bare_conversations_json(page, user, language):
    expect = _expect()
    sign_in(page, user, language)
    panel = open_data_controls(page, "Data controls")
    data = chatgpt.as_json([chatgpt.trip_conversation(), broken_conversation(), chatgpt.recipe_conversation()])
    panel.get_by_label("ChatGPT export file (.zip or .json)").set_input_files(
        {"name": "conversations.json", "mimeType": "application/json", "buffer": data}
    )
    panel.get_by_role("button", name="Import", exact=True).click()
    expect(panel).to_contain_text("conversations.json: import finished.", timeout=30_000)
    expect(panel).to_contain_text("2 conversations imported.")
    errors = panel.get_by_role("list", name="1 conversation could not be imported:").get_by_role("listitem")
    expect(errors).to_have_count(1)
    expect(errors).to_contain_text(f"{BROKEN_TITLE}: ")
    expect(sidebar_list(page)).to_contain_text("Pancakes")


def test_a_file_that_is_no_export_is_refused_in_the_apis_words(page, user):
    expect = _expect()
    sign_in(page, user)
    panel = open_data_controls(page)
    panel.get_by_label(KO["file"]).set_input_files(
        {"name": "notes.json", "mimeType": "application/json", "buffer": b"not json at all"}
    )
    panel.get_by_role("button", name=KO["import"], exact=True).click()
    # Refused at upload, or failed by the job: either way in the words the server has for it.
    expect(panel.get_by_role("alert")).to_be_visible(timeout=30_000)
    r = api_ko(user, "GET", "/api/v1/imports")
    rows = r.json()["results"]
    if rows:
        assert rows[0]["status"] == "failed", rows[0]
        expect(panel.get_by_role("alert")).to_contain_text(rows[0]["error"])
    expect(panel.get_by_role("button", name=KO["import"], exact=True)).to_be_enabled()


def test_export_all_my_data_then_download_the_zip(page, user):
    expect = _expect()
    conversation = user.conversation(message="안녕하세요, 내보내기 시험입니다.", title="내보내기 시험")
    sign_in(page, user)
    panel = open_data_controls(page)
    panel.get_by_role("button", name=KO["export"], exact=True).click()

    link = panel.get_by_role("button", name=KO["download"])
    expect(link).to_be_visible(timeout=30_000)
    expect(panel).to_contain_text(re.compile(r"내보내기 파일이 준비되었습니다\((\d+(\.\d)? (KB|MB)|\d+바이트)\)\."))
    expect(panel).to_contain_text("다운로드 링크는")
    with page.expect_download() as download:
        link.click()
    assert re.fullmatch(r"chat-export-\d{4}-\d{2}-\d{2}\.zip", download.value.suggested_filename)
    with zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        bundle = json.loads(archive.read("conversations.json"))
    assert manifest["format"] == "chat-server.user-export" and manifest["user"]["email"] == user.email, manifest
    [exported] = bundle["conversations"]
    assert (exported["id"], exported["title"]) == (conversation["id"], "내보내기 시험"), exported
    assert exported["messages"][0]["content"] == "안녕하세요, 내보내기 시험입니다."
    assert exported["messages"][1]["role"] == "assistant" and exported["messages"][1]["content"]

    # Settings opened again offers the same export's link while it lasts.
    page.keyboard.press("Escape")
    panel = open_data_controls(page)
    expect(panel.get_by_role("button", name=KO["download"])).to_be_visible()


def test_one_chat_exported_as_markdown_from_its_menu(page, user):
    expect = _expect()
    conversation = user.conversation(message="김치찌개는 어떻게 끓이나요?", title="김치찌개 레시피")
    reply = user.messages(conversation["id"])[-1]["content"]
    sign_in(page, user)
    row = page.locator(f"li.conv[data-id='{conversation['id']}']")
    row.locator("button[aria-haspopup=menu]").click()
    with page.expect_download() as download:
        page.get_by_role("menuitem", name=KO["markdown"]).click()
    name = download.value.suggested_filename
    assert name == f"김치찌개-레시피-{conversation['id'][:8]}.md", name
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# 김치찌개 레시피\n"), text[:200]
    assert "김치찌개는 어떻게 끓이나요?" in text and reply.strip() in text, text
    expect(page.get_by_role("menu")).to_have_count(0)


def test_delete_account_wrong_password_then_right_one(page, user, server):
    expect = _expect()
    sign_in(page, user)
    panel = open_data_controls(page)
    password = panel.get_by_label(KO["password"], exact=True)
    password.fill("not-the-password")
    panel.get_by_role("button", name=KO["delete"]).click()
    alert = panel.get_by_role("alert")
    expect(alert).to_be_visible()
    # Shown as the API words it for this language (the server translates; the code stays).
    r = api_ko(user, "DELETE", "/api/v1/user", json={"password": "also-not-it"})
    assert r.status_code == 400 and "password" in r.json(), r.text
    expect(alert).to_have_text(" ".join(r.json()["password"]))
    assert user.api("GET", "/api/v1/user").status_code == 200  # still there

    password.fill(PASSWORD)
    panel.get_by_role("button", name=KO["delete"]).click()
    # Signed out: the sign-in form, no session kept in this browser.
    expect(page.locator("#auth-form")).to_be_visible()
    expect(page.locator("#sidebar")).to_have_count(0)
    assert page.evaluate("() => localStorage.getItem('chat.refresh')") is None
    assert user.api("GET", "/api/v1/user").status_code == 401  # the API session went with the account

    # Signing in again fails, in the browser and through the API.
    page.locator("#email").fill(user.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#auth-submit").click()
    expect(page.locator("#status")).to_be_visible()
    expect(page.locator("#sidebar")).to_have_count(0)
    body = {"email": user.email, "password": PASSWORD, "device_id": "again", "device_name": "pytest"}
    assert httpx.post(f"{server.base}/api/v1/auth/login", json=body).status_code in (400, 401)


def test_an_account_without_a_password_is_deleted_with_the_typed_phrase(page, user, server):
    expect = _expect()
    sign_in(page, user)
    # As an account made through Google or Kakao has it: no usable password.
    manage(
        server.env,
        "shell",
        "-c",
        "from accounts.models import User\n"
        f"u = User.objects.get(email={user.email!r})\n"
        "u.set_unusable_password()\n"
        "u.save()\n",
    )
    panel = open_data_controls(page)
    panel.get_by_role("button", name=KO["delete"]).click()  # the password left empty, as its hint says
    # The API asks for the phrase: its field comes, with the phrase to type.
    phrase = panel.get_by_label(f"확인을 위해 다음 문구를 그대로 입력하세요: DELETE {user.email}")
    expect(phrase).to_be_focused()
    expect(panel.get_by_label(KO["password"], exact=True)).to_have_count(0)
    phrase.fill("DELETE someone-else@example.com")
    panel.get_by_role("button", name=KO["delete"]).click()
    r = api_ko(user, "DELETE", "/api/v1/user", json={"confirm": "DELETE someone-else@example.com"})
    assert r.status_code == 400 and "confirm" in r.json(), r.text
    expect(panel.get_by_role("alert")).to_have_text(" ".join(r.json()["confirm"]))
    assert user.api("GET", "/api/v1/user").status_code == 200

    phrase.fill(f"DELETE {user.email}")
    panel.get_by_role("button", name=KO["delete"]).click()
    expect(page.locator("#auth-form")).to_be_visible()
    assert user.api("GET", "/api/v1/user").status_code == 401
