"""Custom instructions and a new chat's settings in the web client, in a real browser against a real
server process; what the model receives is read off the tests' recording upstream.

- Settings › Custom instructions: a textarea with the server's cap and a counter, saved with PATCH.
- A new chat's settings (system prompt, collector items) stay in the client: saving them makes no
  conversation (no sidebar row, an empty list in the API) until the first message, which creates
  the chat with them; the header shows that the chat has a system prompt or items.

As test_web_client.py, whose server, browser, context, page and user fixtures this module shares.
"""

import os
import re

import pytest

from tests.config import test_web_client as web
from tests.config.test_web_client import (
    CHROMIUM,
    QUICK,
    _expect,
    composer,
    conversation_id_of,
    conversations_nav,
    replies,
    sign_in,
    wait_finished,
)
from tests.conversations.upstream import upstream  # noqa: F401

server, browser, context, page, user = web.server, web.browser, web.context, web.page, web.user
_screenshots_on_failure = web._screenshots_on_failure

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="needs Debian's chromium (apt-get install chromium)"),
]

INSTRUCTIONS = "I am a developer in Seoul. Answer briefly."
PROMPT = "You are a travel agent."


def systems(request: dict) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "system"]


def last_request_with(upstream, text: str) -> dict:  # noqa: F811
    return next(r for r in reversed(upstream.requests) if r["messages"][-1]["content"] == text)


def open_chat_settings(page):
    page.get_by_role("button", name="Chat settings", exact=True).click()
    return page.get_by_role("dialog", name="Chat settings")


def test_a_new_chats_settings_wait_for_its_first_message(page, user, upstream):  # noqa: F811
    expect = _expect()
    item = user.api("POST", "/api/v1/collector/items", json={"kind": "note", "title": "Budget", "content": "300만 원"})
    assert item.status_code == 201, item.text
    sign_in(page, user)
    badge = page.locator("#chat-settings-badge")
    expect(badge).to_have_count(0)  # nothing chosen yet

    dialog = open_chat_settings(page)
    dialog.get_by_label("System prompt").fill(PROMPT)
    dialog.get_by_role("checkbox", name=re.compile("Budget")).check()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()

    # Nothing was created: no sidebar row, no conversation in the API, still the new chat's address.
    expect(conversations_nav(page).locator("li.conv")).to_have_count(0)
    assert user.api("GET", "/api/v1/conversations").json()["results"] == []
    assert page.url.rstrip("/") == user.base
    # The header says what the chat will have.
    expect(badge).to_have_accessible_name("This chat has a system prompt and 1 collector item")
    # Opened again, the dialog shows what was chosen.
    dialog = open_chat_settings(page)
    expect(dialog.get_by_label("System prompt")).to_have_value(PROMPT)
    expect(dialog.get_by_role("checkbox", name=re.compile("Budget"))).to_be_checked()
    dialog.get_by_role("button", name="Close").click()

    composer(page).fill("Plan a trip to Busan")
    composer(page).press("Enter")
    wait_finished(page, replies(page, QUICK).first)

    conversation_id = conversation_id_of(page)
    listed = user.api("GET", "/api/v1/conversations").json()["results"]
    assert [(c["id"], c["system_prompt"]) for c in listed] == [(conversation_id, PROMPT)]
    context_items = user.api("GET", f"/api/v1/conversations/{conversation_id}/context-items").json()
    assert context_items["item_ids"] == [item.json()["id"]]
    request = last_request_with(upstream, "Plan a trip to Busan")
    assert systems(request)[0].startswith(PROMPT)  # the chat's prompt, then the item as a source
    assert "300만 원" in systems(request)[0]
    expect(conversations_nav(page).locator("li.conv")).to_have_count(1)
    expect(badge).to_have_accessible_name("This chat has a system prompt and 1 collector item")

    # After a reload the chat still shows it; a chat without either shows nothing.
    page.reload()
    expect(badge).to_have_accessible_name("This chat has a system prompt and 1 collector item")
    page.get_by_role("button", name="New chat").first.click()
    expect(page.get_by_role("heading", name="New chat", level=1)).to_be_visible()
    expect(badge).to_have_count(0)


def test_custom_instructions_are_saved_and_reach_the_model_before_the_chats_prompt(page, user, upstream):  # noqa: F811
    expect = _expect()
    sign_in(page, user)
    page.get_by_role("button", name="Settings", exact=True).click()
    dialog = page.get_by_role("dialog", name="Settings")
    dialog.get_by_role("tab", name="Custom instructions").click()
    field = dialog.get_by_role("textbox", name="Custom instructions")
    expect(field).to_have_attribute("maxlength", "3000")
    expect(dialog.get_by_text("0 / 3000 characters")).to_be_visible()
    field.fill(INSTRUCTIONS)
    expect(dialog.get_by_text(f"{len(INSTRUCTIONS)} / 3000 characters")).to_be_visible()
    dialog.get_by_role("button", name="Save instructions").click()
    expect(page.get_by_text("Custom instructions saved")).to_be_attached()
    assert user.api("GET", "/api/v1/user/settings").json()["custom_instructions"] == INSTRUCTIONS
    dialog.get_by_role("button", name="Close").click()

    chat_settings = open_chat_settings(page)
    chat_settings.get_by_label("System prompt").fill(PROMPT)
    chat_settings.get_by_role("button", name="Save").click()
    composer(page).fill("Where should I eat?")
    composer(page).press("Enter")
    wait_finished(page, replies(page, QUICK).first)

    assert systems(last_request_with(upstream, "Where should I eat?")) == [f"{INSTRUCTIONS}\n\n{PROMPT}"]

    # Reopened, Settings shows them saved.
    page.get_by_role("button", name="Settings", exact=True).click()
    dialog = page.get_by_role("dialog", name="Settings")
    dialog.get_by_role("tab", name="Custom instructions").click()
    expect(dialog.get_by_role("textbox", name="Custom instructions")).to_have_value(INSTRUCTIONS)
