""" "Continue" in the web client: a reply cut at the length limit offers it, and a click follows a
new reply that goes on from it, in English and in Korean. Titles of untitled chats cut at a word.

As test_web_client.py (whose browser, context, page and user fixtures this module shares): Debian's
chromium, the tests' OpenAI-compatible upstream (which stops at max_tokens and says "length"), one
server per module, whose one model has a small output limit.
"""

import os
import time
from pathlib import Path

import pytest

from tests.config import test_web_client as web
from tests.config.test_web_client import CHROMIUM, Server, _expect, messages_log, send_button, sign_in
from tests.conversations.upstream import expected_text, upstream  # noqa: F401
from testsupport.servers import ServerProcess, manage, own_database, server_env

browser, context, page, user = web.browser, web.context, web.page, web.user
_screenshots_on_failure = web._screenshots_on_failure

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="needs Debian's chromium (apt-get install chromium)"),
]

CUT_AT = 6  # the model's output limit, in the upstream's tokens ("t0 ", "t1 "...)


@pytest.fixture(scope="module")
def server(tmp_path_factory, upstream):  # noqa: F811
    tmp_path = tmp_path_factory.mktemp("web-client-continue")
    with own_database(tmp_path, "webcontinue") as database_url:
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
            "LLMModel.objects.create(provider='openai', slug='short', display_name='Short test model',\n"
            f"    upstream_model='normal:40:0.03', base_url={upstream.base_url!r}, is_default=True,\n"
            f"    max_output_tokens={CUT_AT}, context_window=8192)\n",
        )
        process = ServerProcess(env).start()
        try:
            yield Server(process.base, Path(env["LOG_FILE"]))
        finally:
            process.stop()


def replies(page):
    return messages_log(page).locator("article.msg.assistant")


def wait_all_finished(page) -> None:
    expect = _expect()
    expect(messages_log(page).locator("article[data-status=pending], article[data-status=streaming]")).to_have_count(
        0, timeout=30_000
    )
    expect(send_button(page)).to_be_visible()


def continue_and_check(page, user, conversation_id: str, *, button: str) -> None:
    """The one cut reply offers ``button``; a click streams a second reply, itself cut (so it
    offers the button in turn, and the first no longer does)."""
    expect = _expect()
    first = replies(page).first
    expect(first).to_have_attribute("data-status", "complete")
    expect(replies(page)).to_have_count(1)
    first.get_by_role("button", name=button, exact=True).click()

    expect(replies(page)).to_have_count(2)
    second = replies(page).nth(1)
    # It streams like any reply: the stop button shows while it does.
    wait_all_finished(page)
    expect(second).to_have_attribute("data-status", "complete")
    expect(second.locator(".body")).to_have_text(expected_text(CUT_AT).strip())
    expect(first.get_by_role("button", name=button, exact=True)).to_have_count(0)
    expect(second.get_by_role("button", name=button, exact=True)).to_be_visible()

    saved = user.messages(conversation_id)
    assert [(m["role"], m["finish_reason"], m["continues"]) for m in saved] == [
        ("user", "", None),
        ("assistant", "length", None),
        ("assistant", "length", saved[1]["id"]),
    ]
    assert second.get_attribute("data-id") == saved[2]["id"]


def test_continue_a_reply_cut_at_the_limit(page, user):
    expect = _expect()
    conversation = user.conversation(model="short", message="Tell me a long story", title="Story")
    assert conversation["assistant_message"]["finish_reason"] == "length"
    sign_in(page, user, f"/c/{conversation['id']}")
    expect(replies(page).first.get_by_role("button", name="Continue", exact=True)).to_have_attribute(
        "title", "Continue this reply from where it was cut off"
    )
    continue_and_check(page, user, conversation["id"], button="Continue")
    # Only the last reply offers it: a new question's reply (cut too) takes it over.
    page.get_by_role("textbox", name="Message", exact=True).fill("Thanks")
    send_button(page).click()
    expect(replies(page)).to_have_count(3)
    wait_all_finished(page)
    expect(messages_log(page).get_by_role("button", name="Continue", exact=True)).to_have_count(1)
    expect(replies(page).nth(2).get_by_role("button", name="Continue", exact=True)).to_be_visible()


def test_continue_in_korean(page, user):
    expect = _expect()
    conversation = user.conversation(model="short", message="긴 이야기를 들려주세요", title="이야기")
    sign_in(page, user, f"/c/{conversation['id']}")
    # The user's language, saved and remembered by this browser.
    assert user.api("PATCH", "/api/v1/user/settings", json={"language": "ko"}).status_code == 200
    page.evaluate("localStorage.setItem('chat.lang', 'ko')")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(replies(page).first.get_by_role("button", name="계속 생성", exact=True)).to_have_attribute(
        "title", "잘린 곳부터 답변을 이어서 작성합니다"
    )
    continue_and_check(page, user, conversation["id"], button="계속 생성")


def test_a_chat_is_named_by_its_first_question_cut_between_words(page, user):
    expect = _expect()
    question = (
        "서울에서 부산까지 기차로 가는 가장 빠른 방법과 요금을 비교해서 알려주실 수 있나요? "
        "주말과 평일 기준으로 각각 알려주세요"
    )
    conversation = user.conversation(model="short", message=question)  # untitled: named after its reply
    title = "서울에서 부산까지 기차로 가는 가장 빠른 방법과 요금을 비교해서 알려주실 수 있나요? 주말과 평일 기준으로"
    deadline = time.monotonic() + 10  # the title is written just after the reply ends
    while (named := user.api("GET", f"/api/v1/conversations/{conversation['id']}").json()["title"]) == "":
        assert time.monotonic() < deadline, "never titled"
        time.sleep(0.1)
    assert named == title
    sign_in(page, user, f"/c/{conversation['id']}")
    expect(page.locator("#chat-title")).to_have_text(title)
    expect(web.conversations_nav(page).get_by_role("link", name=title, exact=True)).to_have_count(1)
