"""Files in the web client, in a real browser against a real server process and job worker.

The composer's paperclip, paste and drop; a chip following its file (its upload's progress on a slow
connection, being read, ready or failed with the reason in words); sending with attachments; the
reply's numbered sources and its [n] markers, each opening its passage (also after a reload); a
model without vision refusing an image before anything is sent; the collector showing a file's
extraction and finding words inside it.

As test_web_client.py (whose browser, context and user fixtures this module shares): Debian's
chromium, the tests' OpenAI-compatible upstream, one server per module. Documents are read by a
``manage.py jobs_worker`` process beside the server, as ``make serve`` runs it. The files are made
here (a PDF with a Korean text layer, a PDF with none, a PNG).
"""

import base64
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.config import test_web_client as web
from tests.config.test_web_client import (
    CHROMIUM,
    Server,
    _expect,
    composer,
    messages_log,
    questions,
    send_button,
    sign_in,
    wait_finished,
)
from tests.conversations.upstream import upstream  # noqa: F401
from tests.files import makers
from testsupport.servers import ROOT, ServerProcess, manage, own_database, server_env

# test_web_client's browser, fresh context per test (failing on any CSP report), page and user.
browser, context, page, user = web.browser, web.context, web.page, web.user
_screenshots_on_failure = web._screenshots_on_failure

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="needs Debian's chromium (apt-get install chromium)"),
]

TEXT_MODEL, VISION_MODEL = "Text test model", "Vision test model"
MODELS = [
    ("text", TEXT_MODEL, "cite::0.02", True, []),  # its reply cites [1] (and a [9] no source has)
    ("vision", VISION_MODEL, "normal:12:0.02", False, ["vision"]),
]


def png(size=(48, 32), color=(20, 120, 200)) -> bytes:
    return makers.png(size, color)


pdf_with_text, pdf_without_text = makers.pdf_with_text, makers.pdf_image_only


@pytest.fixture(scope="module")
def server(tmp_path_factory, upstream):  # noqa: F811
    tmp_path = tmp_path_factory.mktemp("web-client-files")
    with own_database(tmp_path, "webfiles") as database_url:
        env = server_env(
            database_url,
            tmp_path,
            THROTTLE_REGISTER_IP="1000/hour",
            THROTTLE_LOGIN_IP="1000/min",
            THROTTLE_REFRESH="1000/min",
            DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
        )
        manage(env, "migrate", "--noinput")
        rows = ", ".join(
            f"dict(slug={slug!r}, display_name={name!r}, upstream_model={mode!r}, is_default={default!r}, "
            f"capabilities={capabilities!r})"
            for slug, name, mode, default, capabilities in MODELS
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
            yield Server(process.base, Path(env["LOG_FILE"]))
        finally:
            process.stop()
            worker.terminate()
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()
            worker_log.close()


# --- the page ------------------------------------------------------------------------------------


def chips(page):
    return page.get_by_role("list", name="Files to send").get_by_role("listitem")


def attach_with_paperclip(page, files: list[dict]) -> None:
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach files").click()
    chooser.value.set_files(files)


def drop_files(page, files: list[tuple[str, str, bytes]]) -> None:
    """Drags files over the chat (its drop zone shows) and drops them."""
    expect = _expect()
    made = ", ".join(js_file(*f) for f in files)
    data = page.evaluate_handle(
        f"() => {{ const d = new DataTransfer(); for (const f of [{made}]) d.items.add(f); return d; }}"
    )
    chat = page.get_by_role("main", name="Chat")
    chat.dispatch_event("dragenter", {"dataTransfer": data})
    expect(page.get_by_text("Drop files to attach them")).to_be_visible()
    chat.dispatch_event("drop", {"dataTransfer": data})
    expect(page.get_by_text("Drop files to attach them")).to_be_hidden()


def js_file(name: str, mime: str, data: bytes) -> str:
    """A JS expression making a File in the page."""
    encoded = base64.b64encode(data).decode()
    return f"new File([Uint8Array.from(atob({encoded!r}), (c) => c.charCodeAt(0))], {name!r}, {{type: {mime!r}}})"


def thumbnail_loaded(image) -> bool:
    return image.evaluate("(img) => img.complete && img.naturalWidth > 0 && img.src.startsWith('blob:')")


# --- tests ---------------------------------------------------------------------------------------


def test_a_30_page_pdf_dropped_on_the_chat_is_asked_about_in_korean_and_cited(page, user, upstream):  # noqa: F811
    # The "done when", from the browser: the fact is on page 17 of 30.
    expect = _expect()
    word = f"zq{uuid.uuid4().hex[:6]}"
    pages = [f"Page {n}: routine minutes of meeting number {n}, nothing to report." for n in range(1, 31)]
    pages[16] = f"제17조 보증 기간은 {word} 인도일로부터 3년입니다. 연장 신청은 서면으로 한다."
    sign_in(page, user)
    drop_files(page, [("계약서.pdf", "application/pdf", pdf_with_text(pages))])

    chip = chips(page).filter(has_text="계약서.pdf")
    expect(chip).to_have_count(1)
    # Read by the worker, polled by the chip until it is ready, with its page count.
    expect(chip).to_have_attribute("data-phase", "ready", timeout=20_000)
    expect(chip).to_contain_text("Ready · 30 pages")

    composer(page).fill(f"보증 기간은 {word} 몇 년인가요?")
    send_button(page).click()

    # The message carries its file (a chip that downloads it); the composer's chips are gone.
    question = questions(page).last
    expect(question.get_by_role("button", name=re.compile(r"^Download 계약서\.pdf"))).to_be_visible()
    expect(page.get_by_role("list", name="Files to send")).to_have_count(0)

    reply = messages_log(page).get_by_role("article", name=re.compile("said$")).last
    wait_finished(page, reply)
    sources = reply.get_by_role("region", name="Sources")
    # The upstream was given page 17's passage, not the rest of the PDF.
    prompt = json.dumps(upstream.requests[-1]["messages"], ensure_ascii=False)
    assert word in prompt and "meeting number 3," not in prompt, prompt[:2000]
    first = sources.get_by_role("button", name=re.compile(r"^Source 1: 계약서\.pdf, page 17$"))
    expect(first).to_be_visible()
    expect(first).to_contain_text("[1]")
    first.click()
    dialog = page.get_by_role("dialog", name=re.compile(r"^\[1\] 계약서\.pdf"))
    expect(dialog).to_contain_text("page 17")
    expect(dialog).to_contain_text(word)
    with page.expect_download() as download:
        dialog.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == "계약서.pdf"
    dialog.get_by_role("button", name="Close").first.click()
    expect(dialog).to_be_hidden()
    # The reply's own [1] opens the same passage; its [9] names no source and stays text.
    cited = reply.locator(".markdown").get_by_role("button", name="Source 1")
    expect(cited).to_have_text("[1]")
    expect(reply.locator(".markdown")).to_contain_text("in writing [9].")
    expect(reply.locator(".markdown").get_by_role("button")).to_have_count(1)
    cited.click()
    expect(dialog).to_contain_text(word)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # After a reload the sources come from the saved message.
    page.reload()
    reply = messages_log(page).get_by_role("article", name=re.compile("said$")).last
    reloaded = reply.get_by_role("region", name="Sources").get_by_role("button", name=re.compile("^Source 1: "))
    expect(reloaded).to_be_visible()


def test_pasted_and_dropped_images_show_thumbnails_and_need_a_vision_model(page, user, upstream):  # noqa: F811
    expect = _expect()
    sign_in(page, user)
    box = composer(page)
    box.click()
    # A screenshot pasted from the clipboard.
    box.evaluate(
        "(box, file) => { const data = new DataTransfer(); data.items.add(file);"
        " box.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true})); }",
        page.evaluate_handle(js_file("image.png", "image/png", png())),
    )
    pasted = chips(page).first
    expect(pasted).to_have_attribute("data-phase", "ready")
    expect(pasted).to_contain_text(re.compile(r"pasted-.*\.png"))
    page.wait_for_function("() => document.querySelector('#composer .chip img')?.naturalWidth > 0")
    assert thumbnail_loaded(pasted.locator("img"))

    # An image dragged onto the chat: the drop zone shows while it is over, then a second chip.
    drop_files(page, [("photo.png", "image/png", png(color=(200, 30, 30)))])
    dropped = chips(page).filter(has_text="photo.png")
    expect(dropped).to_have_attribute("data-phase", "ready")
    assert thumbnail_loaded(dropped.locator("img"))

    # The default model reads no images: said at once under the chips, again on Send, and nothing is sent.
    warning = page.locator("#composer").get_by_role("status")
    expect(warning).to_have_text(f"{TEXT_MODEL} cannot read images: choose a model that can, or remove the image.")
    send_button(page).click()
    expect(page.get_by_role("alert").filter(has_text="cannot read images")).to_contain_text(TEXT_MODEL)
    expect(questions(page)).to_have_count(0)

    # One image removed (its × button), a vision model chosen: sent without text, shown as a thumbnail.
    page.get_by_role("button", name=re.compile(r"^Remove pasted-")).click()
    expect(chips(page)).to_have_count(1)
    page.get_by_role("button", name=re.compile(r"^Model: .*Choose model$")).click()
    page.get_by_role("menuitemradio", name=VISION_MODEL).click()
    expect(warning).to_have_count(0)
    send_button(page).click()
    question = questions(page).last
    image = question.get_by_role("button", name=re.compile(r"^Download photo\.png")).locator("img")
    expect(image).to_be_visible()
    page.wait_for_function("() => [...document.querySelectorAll('.message-image img')].some((i) => i.naturalWidth > 0)")
    assert thumbnail_loaded(image)
    wait_finished(page, messages_log(page).get_by_role("article", name=f"{VISION_MODEL} said").last)
    # The screenshot reached the vision model as an image.
    parts = upstream.requests[-1]["messages"][-1]["content"]
    assert any(p.get("type") == "image_url" for p in parts if isinstance(p, dict)), parts


def test_a_file_that_cannot_be_used_is_explained_and_blocks_sending_until_removed(page, user):
    expect = _expect()
    sign_in(page, user)
    attach_with_paperclip(
        page,
        [
            {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": pdf_without_text()},
            {"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\x00" + b"\x00" * 200},
        ],
    )
    scan = chips(page).filter(has_text="scan.pdf")
    expect(scan).to_have_attribute("data-phase", "failed", timeout=20_000)
    expect(scan).to_contain_text("This PDF has no text layer (scanned?); text recognition is not supported.")
    exe = chips(page).filter(has_text="tool.exe")
    expect(exe).to_have_attribute("data-phase", "failed")
    expect(exe).to_contain_text("This kind of file cannot be read")

    composer(page).fill("What does it say?")
    send_button(page).click()
    expect(page.get_by_role("alert").filter(has_text="could not be used")).to_contain_text("scan.pdf")
    expect(questions(page)).to_have_count(0)

    # A slow connection: the chip shows the upload's progress until the server has the file.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 100_000},
    )
    notes = ("Meeting notes, line after line.\n" * 12_000).encode()  # ~370 KB: about 4 s at 100 KB/s
    attach_with_paperclip(page, [{"name": "notes.txt", "mimeType": "text/plain", "buffer": notes}])
    progress = page.get_by_role("progressbar", name="Uploading notes.txt")
    expect(progress).to_be_visible()
    page.wait_for_function(
        "() => { const bar = document.querySelector('#composer progress'); return bar?.value > 0 && bar.value < 1; }"
    )
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    notes_chip = chips(page).filter(has_text="notes.txt")
    expect(notes_chip).to_have_attribute("data-phase", "ready", timeout=20_000)
    page.get_by_role("button", name="Remove notes.txt").click()

    page.get_by_role("button", name="Remove scan.pdf").click()
    page.get_by_role("button", name="Remove tool.exe").click()
    expect(page.get_by_role("list", name="Files to send")).to_have_count(0)
    send_button(page).click()
    expect(questions(page)).to_have_count(1)


def test_the_collector_shows_a_files_extraction_and_finds_words_inside_it(page, user):
    expect = _expect()
    word = f"kx{uuid.uuid4().hex[:6]}"
    document = pdf_with_text(["Nothing here.", f"The secret ingredient is {word} in the second page."])
    r = user.api(
        "POST",
        "/api/v1/collector/items",
        data={"kind": "file", "title": "Recipe book"},
        files={"file": ("recipes.pdf", document, "application/pdf")},
    )
    assert r.status_code == 201, r.text
    user.api("POST", "/api/v1/collector/items", json={"kind": "note", "title": "Shopping", "content": "milk"})

    sign_in(page, user)
    page.get_by_role("button", name="Collector").click()
    dialog = page.get_by_role("dialog", name="Collector")
    items = dialog.get_by_role("list", name="Collector items")
    recipe = items.get_by_role("listitem").filter(has_text="Recipe book")
    expect(recipe.locator(".file-status")).to_have_attribute("data-phase", "ready", timeout=20_000)
    expect(recipe).to_contain_text("Ready · 2 pages")

    dialog.get_by_role("searchbox", name="Search collector").fill(word)
    expect(items.get_by_role("listitem")).to_have_count(1)
    expect(items.get_by_role("listitem")).to_contain_text("Recipe book")
