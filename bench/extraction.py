"""Extraction throughput: pages read per second by the files app's bounded extraction (the child
process the job runs: ``files.extraction.extract_bounded``), for a PDF, a DOCX and an XLSX made on
the fly with Korean and English text.

    .venv/bin/python bench/extraction.py [--pages 200] [--runs 3]

Prints one line per format: pages, the median wall time of ``--runs`` runs (process start and
imports included, as a real job pays them) and pages/s; then the CPU. No database, no Django.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from files.extraction import Limits, extract_bounded  # noqa: E402
from files.types import DOCX, PDF, XLSX  # noqa: E402

FONT = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"
PARAGRAPH = (
    "제{n}쪽: 서울시 교통 예산은 전년 대비 {n}% 늘었다. 지하철 9호선 연장 공사는 2027년에 끝난다. "
    "Page {n}: the committee approved the budget after a long debate about buses, bicycles and parking. "
)


def make_pdf(pages: int) -> bytes:
    import logging

    from fpdf import FPDF

    logging.getLogger("fontTools").setLevel(logging.ERROR)  # NanumGothic's hinting tables it drops

    pdf = FPDF()
    pdf.add_font("Nanum", fname=FONT)
    pdf.set_font("Nanum", size=11)
    for n in range(1, pages + 1):
        pdf.add_page()
        pdf.multi_cell(0, 7, PARAGRAPH.format(n=n) * 6)
    return bytes(pdf.output())


def make_docx(pages: int) -> bytes:
    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    for n in range(1, pages + 1):
        for _ in range(6):
            document.add_paragraph(PARAGRAPH.format(n=n))
        document.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_xlsx(sheets: int) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for n in range(1, sheets + 1):
        sheet = workbook.create_sheet(f"시트{n}")
        sheet.append(["지역", "예산", "비고"])
        for row in range(40):
            sheet.append([f"구역 {row}", row * 1000 + n, f"note {row} of sheet {n}"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200, help="pages (PDF, DOCX) and sheets (XLSX) per file")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    limits = Limits(max_chars=50_000_000, timeout_seconds=600)
    print(f"{'format':<6} {'pages':>6} {'size':>9} {'median s':>9} {'pages/s':>9}")
    with tempfile.TemporaryDirectory() as scratch:
        for label, content_type, maker in (
            ("PDF", PDF, make_pdf),
            ("DOCX", DOCX, make_docx),
            ("XLSX", XLSX, make_xlsx),
        ):
            path = os.path.join(scratch, label.lower())
            Path(path).write_bytes(maker(args.pages))
            times, pages = [], 0
            for _ in range(args.runs):
                started = time.perf_counter()
                outcome = extract_bounded(path, content_type, limits)
                times.append(time.perf_counter() - started)
                if outcome.error:
                    raise SystemExit(f"{label}: {outcome.error}: {outcome.detail}")
                pages = len(outcome.pages)
            median = statistics.median(times)
            size = os.path.getsize(path)
            print(f"{label:<6} {pages:>6} {size / 1024:>7.0f} K {median:>9.2f} {pages / median:>9.1f}")
    print(f"CPU: {cpu_name()} ({os.cpu_count()} cores), Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
