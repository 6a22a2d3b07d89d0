"""The share page in a real browser (Debian's chromium) as a Korean reader in Seoul sees it: Korean
text, the share's time in Seoul (the page's script rewrites the server's UTC with Intl), code
highlighted, and Copy putting the code on the clipboard; and the same page in English."""

import os
import re
from datetime import UTC, datetime

import pytest

from sharing import services

from .factories import conversation_with_messages

CHROMIUM = "/usr/bin/chromium"
CODE = "def greet(name):\n    return f'안녕하세요, {name}!'\n"
REPLY = f"다음 코드를 쓰세요.\n\n```python\n{CODE}```\n\n마크다운으로 쓴 답변입니다."

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="needs Debian's chromium"),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own database calls
    # (fixtures, teardown) are plain synchronous ones all the same.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            yield browser
            browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def share(transactional_db, user, settings):
    settings.SITE_NAME = "채팅"
    pairs = [("파이썬 인사 함수를 보여 주세요", REPLY)]
    conversation = conversation_with_messages(owner=user, pairs=pairs, title="인사 함수")
    conversation.model.display_name = "한국어 모델"
    conversation.model.save(update_fields=["display_name"])
    share = services.share_create(user=user, conversation=conversation)
    share.created_at = datetime(2026, 12, 6, 15, 5, tzinfo=UTC)  # 00:05 on December 7 in Seoul
    share.save(update_fields=["created_at"])
    return share


def _page(browser, live_server, share, *, locale: str, zone: str):
    context = browser.new_context(locale=locale, timezone_id=zone)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(f"{live_server.url}/share/{share.pk}/")
    return context, page, errors


def test_a_korean_reader_in_seoul(browser, live_server, share):
    from playwright.sync_api import expect

    context, page, errors = _page(browser, live_server, share, locale="ko-KR", zone="Asia/Seoul")
    try:
        assert page.locator("html").get_attribute("lang") == "ko"
        # The time, rewritten in the reader's zone and language: December 7, not 6.
        time = page.locator("time[data-local='true']")
        expect(time).to_have_count(1)
        text = time.inner_text()
        assert "12월 7일" in text and "2026" in text, text
        assert time.get_attribute("datetime") == "2026-12-06T15:05:00Z"
        body = page.locator("body").inner_text()
        for korean in ("공유한 날짜", "메시지 2개", "사용자", "어시스턴트", "대화 이어 가기", "복사"):
            assert korean in body, korean
        # No English word is left (the conversation, the site's and the model's names are Korean
        # too; the code aside): Intl names Seoul's zone "GMT+9" in Korean.
        prose = re.sub(r"def greet.*?\}!'", "", body, flags=re.S)
        assert re.findall(r"[A-Za-z]{2,}", prose) == ["GMT"], prose
        assert body.startswith("채팅")
        assert "POST" not in body and "Bearer" not in body

        # Code highlighted, with a Copy button that copies it.
        code = page.locator("article.msg pre > code.language-python")
        expect(code.locator("span.hljs-keyword").first).to_have_text("def")
        button = page.get_by_role("button", name="복사")
        button.click()
        expect(button).to_have_text("복사됨")
        assert page.evaluate("navigator.clipboard.readText()") == CODE
        # Korean prose wraps at word boundaries.
        style = page.locator("article.msg.assistant").evaluate(
            "el => [getComputedStyle(el).wordBreak, getComputedStyle(el).overflowWrap]"
        )
        assert style == ["keep-all", "anywhere"]
        assert errors == []
    finally:
        context.close()


def test_an_english_reader_in_new_york(browser, live_server, share):
    context, page, errors = _page(browser, live_server, share, locale="en-US", zone="America/New_York")
    try:
        assert page.locator("html").get_attribute("lang") == "en"
        text = page.locator("time[data-local='true']").inner_text()
        assert "December 6, 2026" in text and "10:05" in text, text
        body = page.locator("body").inner_text()
        assert "Shared on" in body and "Continue this conversation" in body
        assert page.get_by_role("button", name="Copy").count() == 1
        assert errors == []
    finally:
        context.close()
