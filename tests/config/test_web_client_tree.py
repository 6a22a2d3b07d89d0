"""Conversations as trees in the web client (issue 22): edit any question and regenerate any reply as
new versions, step through them with ‹ n/m ›, the choice kept by the server (a reload and a second
tab show the same), and "Branch in new chat".

As test_web_client.py, whose server (its own process and database, the tests' upstream), browser,
context and user fixtures and page helpers this module shares: Debian's chromium, controls found by
their accessible names. Every reply of the upstream has the same text ("t0 t1 ..."), so versions
are told apart by their questions and their message ids.
"""

import os

import pytest

from tests.config import test_web_client as web
from tests.config.test_web_client import (
    CHROMIUM,
    RESUME_TOKENS,
    _expect,
    body,
    composer,
    conversation_id_of,
    conversations_nav,
    messages_log,
    question_texts,
    questions,
    replies,
    send_button,
    sign_in,
    wait_finished,
)
from tests.conversations.upstream import expected_text, upstream  # noqa: F401

server, browser, context, user = web.server, web.browser, web.context, web.user
_screenshots_on_failure = web._screenshots_on_failure

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="needs Debian's chromium (apt-get install chromium)"),
]


def articles(page):
    return messages_log(page).get_by_role("article")


def shown_ids(page) -> list[str]:
    return [article.get_attribute("data-id") for article in articles(page).all()]


def answers(page):
    """The replies shown, whichever model wrote them."""
    return messages_log(page).locator("article.msg.assistant")


def version_of(article):
    """The ‹ n/m › of a message: its group, whose text is "n/m"."""
    return article.get_by_role("group", name="Versions")


def test_edit_switch_regenerate_reload_and_branch(context, user):
    expect = _expect()
    conversation = user.conversation(title="Tree", message="First question")
    cid = conversation["id"]
    page = context.new_page()
    sign_in(page, user, f"/c/{cid}")
    # The second turn, sent from the composer (under the current leaf, as always).
    composer(page).fill("Second question")
    composer(page).press("Enter")
    expect(replies(page)).to_have_count(2)
    wait_finished(page, replies(page).nth(1))
    expect(question_texts(page)).to_have_text(["First question", "Second question"])
    original = shown_ids(page)
    assert len(original) == 4
    expect(messages_log(page).get_by_role("group", name="Versions")).to_have_count(0)  # one version of each
    second = context.new_page()  # another tab of the same browser, on the same chat
    second.goto(f"/c/{cid}")
    expect(question_texts(second)).to_have_text(["First question", "Second question"])

    # Edit the FIRST question: a new version of it, and a new answer; the old turns stay, one arrow away.
    questions(page).first.get_by_role("button", name="Edit message").click()
    field = page.get_by_role("textbox", name="Edited message")
    expect(field).to_have_value("First question")
    field.fill("First question, edited")
    page.get_by_role("button", name="Send edited message").click()
    expect(question_texts(page)).to_have_text(["First question, edited"])
    wait_finished(page, replies(page))
    expect(replies(page)).to_have_count(1)
    assert replies(page).get_attribute("data-id") not in original
    expect(version_of(questions(page).first)).to_have_text("2/2")
    expect(version_of(replies(page))).to_have_count(0)  # the new answer has no sibling

    # Back to the original: the first question and the whole second turn are there again.
    questions(page).first.get_by_role("button", name="Previous version").click()
    expect(question_texts(page)).to_have_text(["First question", "Second question"])
    expect(version_of(questions(page).first)).to_have_text("1/2")
    expect(questions(page).first.get_by_role("button", name="Previous version")).to_be_disabled()
    assert shown_ids(page) == original
    # The other tab was told: it shows the same version.
    expect(question_texts(second)).to_have_text(["First question", "Second question"])
    expect(version_of(questions(second).first)).to_have_text("1/2")

    # Regenerate the FIRST reply (not the last), with a slower model: a new version of it, shown with
    # the path below it, and followed. Looking at another version meanwhile leaves it generating
    # there; coming back follows it to its end.
    assert user.api("PATCH", f"/api/v1/conversations/{cid}", json={"model": "resume"}).status_code == 200
    answers(page).first.get_by_role("button", name="Regenerate").click()
    expect(answers(page)).to_have_count(1)
    expect(answers(page)).to_have_attribute("data-status", "streaming")
    regenerated = answers(page).get_attribute("data-id")
    assert regenerated not in original
    expect(version_of(answers(page))).to_have_text("2/2")
    expect(question_texts(page)).to_have_text(["First question"])
    answers(page).get_by_role("button", name="Previous version").click()
    expect(question_texts(page)).to_have_text(["First question", "Second question"])
    expect(version_of(answers(page).first)).to_have_text("1/2")
    expect(send_button(page)).to_be_visible()  # nothing on this path is being written
    answers(page).first.get_by_role("button", name="Next version").click()
    expect(answers(page)).to_have_count(1)
    expect(answers(page)).to_have_attribute("data-id", regenerated)
    wait_finished(page, answers(page))
    expect(answers(page)).to_have_attribute("data-status", "complete")
    assert body(answers(page)).inner_text().strip() == expected_text(RESUME_TOKENS).strip()
    assert user.api("GET", f"/api/v1/conversations/{cid}").json()["current_message_id"] == regenerated

    # The choice is the server's: a reload shows the same version.
    page.reload()
    expect(answers(page)).to_have_count(1)
    expect(answers(page)).to_have_attribute("data-id", regenerated)
    expect(version_of(answers(page))).to_have_text("2/2")
    expect(version_of(questions(page).first)).to_have_text("1/2")

    # Branch in new chat: a new conversation holding a copy of the path down to that reply, opened.
    answers(page).get_by_role("button", name="More actions").click()
    page.get_by_role("menuitem", name="Branch in new chat").click()
    expect(page.get_by_role("heading", name="Tree (branch)", level=1)).to_be_visible()
    branch_id = conversation_id_of(page)
    assert branch_id != cid
    expect(question_texts(page)).to_have_text(["First question"])
    expect(answers(page)).to_have_count(1)
    expect(messages_log(page).get_by_role("group", name="Versions")).to_have_count(0)
    expect(conversations_nav(page).get_by_role("link", name="Tree (branch)", exact=True)).to_have_count(1)
    copied = user.messages(branch_id)
    assert [(m["role"], m["content"].strip()) for m in copied] == [
        ("user", "First question"),
        ("assistant", expected_text(RESUME_TOKENS).strip()),
    ]
    # The original is untouched and keeps every version: two of the first question, two of its reply.
    path = user.messages(cid)
    assert [m["id"] for m in path] == [original[0], regenerated]
    assert len(path[0]["sibling_ids"]) == 2
    assert path[1]["sibling_ids"] == [original[1], regenerated]
