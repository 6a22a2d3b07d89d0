"""Extraction: real files of every kind read into pages; bad files fail cleanly with a code."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from files import services
from files.extraction import Limits, extract_bounded
from files.models import FileStatus, StoredFile
from files.signals import file_ready

from . import makers

pytestmark = pytest.mark.django_db


def create_and_extract(user, name: str, data: bytes, capture) -> StoredFile:
    with capture(execute=True):
        stored = services.file_create(owner=user, upload=SimpleUploadedFile(name, data))
    stored.refresh_from_db()
    return stored


def texts(stored: StoredFile) -> list[str]:
    return list(stored.text_pages.order_by("number").values_list("text", flat=True))


@pytest.fixture
def extract(user, django_capture_on_commit_callbacks):
    return lambda name, data: create_and_extract(user, name, data, django_capture_on_commit_callbacks)


def test_docx_with_korean_text_and_a_page_break(extract):
    data = makers.docx(
        ["서울의 인구는 약 940만 명이다.", "두 번째 쪽 내용"], page_break_after=0, table=[["항목", "값"], ["사과", "3"]]
    )
    stored = extract("보고서.docx", data)
    assert stored.content_type.endswith("wordprocessingml.document")
    assert stored.status == FileStatus.READY, stored.error_detail
    assert stored.pages == 2
    first, second = texts(stored)
    assert "서울의 인구는 약 940만 명이다." in first
    assert "두 번째 쪽 내용" in second
    assert "사과\t3" in second


def test_xlsx_sheets_are_pages_labelled_by_name(extract):
    data = makers.xlsx({"매출": [["월", "금액"], ["1월", 1200], ["2월", 1500]], "Notes": [["plain english"]]})
    stored = extract("sales.xlsx", data)
    assert stored.status == FileStatus.READY, stored.error_detail
    pages = list(stored.text_pages.order_by("number"))
    assert [(page.number, page.label) for page in pages] == [(1, "매출"), (2, "Notes")]
    assert pages[0].text.splitlines() == ["월\t금액", "1월\t1200", "2월\t1500"]


def test_pptx_slides_are_pages(extract):
    stored = extract("deck.pptx", makers.pptx([("첫 슬라이드", "목표: 매출 증가"), ("Second", "Hiring plan")]))
    assert stored.status == FileStatus.READY, stored.error_detail
    pages = list(stored.text_pages.order_by("number"))
    assert [page.label for page in pages] == ["첫 슬라이드", "Second"]
    assert "목표: 매출 증가" in pages[0].text
    assert "Hiring plan" in pages[1].text


def test_hwpx_sections(extract):
    stored = extract("공문.hwpx", makers.hwpx([["제1조 목적", "이 규정은 시험용이다."], ["부칙"]]))
    assert stored.content_type == "application/hwp+zip"
    assert stored.status == FileStatus.READY, stored.error_detail
    first, second = texts(stored)
    assert first.splitlines() == ["제1조 목적", "이 규정은 시험용이다."]
    assert second == "부칙"


def test_html_text_only(extract):
    html = (
        "<html><head><title>t</title><style>p{}</style></head>"
        "<body><p>본문 텍스트</p><script>var x=1</script></body></html>"
    )
    stored = extract("page.html", html.encode())
    assert stored.content_type == "text/html"
    assert texts(stored) == ["본문 텍스트"]


def test_cp949_text_decodes(extract):
    text = "회의록\n다음 회의는 금요일 오후 세 시입니다.\n"
    stored = extract("memo.txt", text.encode("cp949"))
    assert stored.status == FileStatus.READY, stored.error_detail
    assert texts(stored) == [text.strip()]


def test_markdown_csv_json(extract):
    assert texts(extract("a.md", b"# Title\n\nbody")) == ["# Title\n\nbody"]
    assert texts(extract("a.csv", "이름,나이\n철수,30\n".encode())) == ["이름,나이\n철수,30"]
    assert extract("a.json", b'{"k": "v"}').content_type == "application/json"


def test_pdf_without_a_text_layer_is_no_text(extract):
    stored = extract("scan.pdf", makers.pdf_image_only())
    assert stored.status == FileStatus.FAILED
    assert stored.error == "no_text"
    assert "OCR" in stored.error_detail
    assert stored.pages is None


def test_many_page_pdf_fails_cleanly(extract, settings):
    settings.FILES_EXTRACT_MAX_PAGES = 1000
    stored = extract("huge.pdf", makers.pdf_blank_pages(5000))
    assert stored.status == FileStatus.FAILED
    assert stored.error == "too_many_pages"
    assert "5000" in stored.error_detail


def test_zip_bomb_docx_fails_cleanly(extract):
    data = makers.docx_zip_bomb(300 * 1024 * 1024)
    assert len(data) < 2 * 1024 * 1024
    stored = extract("bomb.docx", data)
    assert stored.status == FileStatus.FAILED
    assert stored.error == "too_large"


def test_memory_limit_stops_a_reader(tmp_path):
    # Past the declared-size check (limit raised), the child's address-space limit stops the reader.
    path = tmp_path / "bomb.docx"
    path.write_bytes(makers.docx_zip_bomb(600 * 1024 * 1024))
    outcome = extract_bounded(
        str(path),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Limits(memory_bytes=400 * 1024 * 1024, max_unzipped_bytes=10**10),
    )
    assert outcome.error == "too_large", outcome


def test_timeout(extract, settings):
    # 300 pages take seconds to read (docs/benchmarks.md: under 100 pages/s); the child is killed.
    settings.FILES_EXTRACT_TIMEOUT_SECONDS = 0.5
    stored = extract("a.pdf", makers.pdf_with_text([f"{n}쪽 " + "내용 content " * 80 for n in range(300)]))
    assert stored.status == FileStatus.FAILED
    assert stored.error == "timeout"


def test_damaged_pdf_is_unreadable(extract):
    stored = extract("broken.pdf", b"%PDF-1.7\nnot really a pdf")
    assert stored.status == FileStatus.FAILED
    assert stored.error == "unreadable"


def test_file_ready_is_sent_and_extract_again(extract, django_capture_on_commit_callbacks, monkeypatch):
    received = []

    def listener(sender, file, **kwargs):
        received.append((file.pk, file.status, file.text_pages.count()))

    file_ready.connect(listener)
    try:
        # The first reading fails (say, a reader since fixed), the second one reads the file.
        real = services.extraction.extract_bounded
        monkeypatch.setattr(
            services.extraction, "extract_bounded", lambda *a: services.extraction.Outcome(error="timeout")
        )
        stored = extract("a.txt", "다시 읽기".encode())
        assert stored.error == "timeout"
        assert received == []
        monkeypatch.setattr(services.extraction, "extract_bounded", real)
        with django_capture_on_commit_callbacks(execute=True):
            services.file_extract_again(file=stored)
        stored.refresh_from_db()
        assert stored.status == FileStatus.READY
        assert received == [(stored.pk, "ready", 1)]
    finally:
        file_ready.disconnect(listener)
