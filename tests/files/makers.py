"""Real files made in the tests: every reader is given what a user would upload."""

import io
import zipfile

NANUM = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"


def pdf_with_text(pages: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("Nanum", fname=NANUM)
    pdf.set_font("Nanum", size=14)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def png(size=(32, 24), color=(200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def pdf_image_only() -> bytes:
    """A scan: one page holding an image and no text layer."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(png((200, 100))), x=10, y=10, w=100)
    return bytes(pdf.output())


def pdf_blank_pages(count: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(count):
        writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx(paragraphs: list[str], *, page_break_after: int | None = None, table: list[list[str]] | None = None) -> bytes:
    import docx as python_docx
    from docx.enum.text import WD_BREAK

    document = python_docx.Document()
    for index, text in enumerate(paragraphs):
        paragraph = document.add_paragraph(text)
        if page_break_after == index:
            paragraph.add_run().add_break(WD_BREAK.PAGE)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def pptx(slides: list[tuple[str, str]]) -> bytes:
    from pptx import Presentation

    presentation = Presentation()
    for title, body in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def hwpx(sections: list[list[str]]) -> bytes:
    """A minimal HWPX (OWPML) package: the mimetype, a manifest and one section per list of paragraphs."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr(zipfile.ZipInfo("mimetype"), "application/hwp+zip")
        package.writestr(
            "Contents/content.hpf",
            '<?xml version="1.0" encoding="UTF-8"?><opf:package xmlns:opf="http://www.idpf.org/2007/opf/"/>',
        )
        for number, paragraphs in enumerate(sections):
            body = "".join(
                f'<hp:p id="{i}"><hp:run charPrIDRef="0"><hp:t>{text}</hp:t></hp:run></hp:p>'
                for i, text in enumerate(paragraphs)
            )
            package.writestr(
                f"Contents/section{number}.xml",
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" '
                f'xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph">{body}</hs:sec>',
            )
    return out.getvalue()


def docx_zip_bomb(unpacked_bytes: int) -> bytes:
    """A DOCX whose document.xml unpacks to ``unpacked_bytes`` of whitespace from a few hundred KiB."""
    real = zipfile.ZipFile(io.BytesIO(docx(["bomb"])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for info in real.infolist():
            if info.filename == "word/document.xml":
                with package.open(info.filename, "w", force_zip64=True) as member:
                    chunk = b" " * (1024 * 1024)
                    for _ in range(unpacked_bytes // len(chunk)):
                        member.write(chunk)
            else:
                package.writestr(info, real.read(info.filename))
    return out.getvalue()


def hwp5() -> bytes:
    """The first bytes of an HWP 5 file: an OLE compound document."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
