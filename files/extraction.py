"""Reading a stored file into text pages, in a child process bounded in time and memory.

``extract_bounded`` (the parent's side, called by the extraction job) runs ``python -m
files.extraction`` with ``RLIMIT_AS`` (memory), ``RLIMIT_CPU``, ``RLIMIT_FSIZE`` (no file written)
and ``RLIMIT_NOFILE`` set before the reader starts, in its own session, and kills its whole process
group at a wall-clock timeout, so a zip bomb, a 5,000-page PDF or a reader stuck in a loop ends
as a failed file and never as a worker out of memory or a job that never ends. The child is given
only the variables it needs (``child_env``: none of the parent's secrets), and its stderr is dropped. Zip-based formats
are also refused by their declared unpacked size before any reader opens them.

The child imports no Django: only the readers (pypdf, python-docx, python-pptx, openpyxl,
BeautifulSoup, defusedxml) and ``files.types``. It prints one JSON object on stdout:
``{"pages": [{"number", "label", "text"}]}`` or ``{"error": code, "detail": text}``.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from files.types import CSV, DOCX, HTML, HWPX, JSON, MARKDOWN, PDF, PPTX, TEXT, XLSX

# Error codes a failed file carries (StoredFile.error).
NO_TEXT = "no_text"
TOO_MANY_PAGES = "too_many_pages"
UNREADABLE = "unreadable"
TIMEOUT = "timeout"
TOO_LARGE = "too_large"

_PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The most parts a zip-based document may list (also refused at upload: files/uploads.py).
MAX_ZIP_PARTS = 10_000


@dataclass(frozen=True)
class Limits:
    max_pages: int = 1000
    max_chars: int = 2_000_000
    timeout_seconds: float = 60.0
    memory_bytes: int = 1024 * 1024 * 1024
    max_unzipped_bytes: int = 200 * 1024 * 1024
    max_sheet_rows: int = 5000


@dataclass(frozen=True)
class Page:
    number: int
    label: str
    text: str


def gettext_noop(message: str) -> str:
    """Marks a message for the catalogs (``makemessages`` looks for this name) without translating
    it: the child runs without Django, so it answers in English with the message and its values
    apart; the parent writes it in the language of the person who uploaded the file
    (``Outcome.text``)."""
    return message


@dataclass
class Outcome:
    pages: list[Page] = field(default_factory=list)
    error: str = ""
    detail: str = ""  # the message with its values filled in, in English
    message: str = ""  # the message before, for the catalogs (empty for one from an older child)
    params: dict = field(default_factory=dict)

    def text(self, translate) -> str:
        """The detail in the active language (``translate`` is gettext)."""
        if not self.message:
            return self.detail
        try:
            return (translate(self.message) % self.params)[:300]
        except (KeyError, TypeError, ValueError):
            return self.detail


class ExtractionError(Exception):
    def __init__(self, code: str, message: str, **params):
        detail = message % params if params else message
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.message = message
        self.params = params


# --- the readers (in the child) -------------------------------------------------------------------

_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")


def _tidy(text: str) -> str:
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    return _BLANK_LINES.sub("\n\n", text).strip()


_TOO_MANY = {
    "pages": gettext_noop("The file has %(count)d pages; at most %(limit)d are read."),
    "slides": gettext_noop("The file has %(count)d slides; at most %(limit)d are read."),
    "sheets": gettext_noop("The file has %(count)d sheets; at most %(limit)d are read."),
    "sections": gettext_noop("The file has %(count)d sections; at most %(limit)d are read."),
}


class _Pages:
    """Pages as they are read, within the character budget: reading stops once it is spent."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.pages: list[Page] = []
        self.chars = 0

    @property
    def full(self) -> bool:
        return self.chars >= self.limits.max_chars

    def add(self, number: int, text: str, label: str = "") -> None:
        text = _tidy(text)
        if not text or self.full:
            return
        text = text[: self.limits.max_chars - self.chars]
        self.chars += len(text)
        self.pages.append(Page(number=number, label=label[:200], text=text))

    def check_count(self, count: int, what: str) -> None:
        if count > self.limits.max_pages:
            raise ExtractionError(TOO_MANY_PAGES, _TOO_MANY[what], count=count, limit=self.limits.max_pages)


def _as_korean(data: bytes) -> str | None:
    """CP949 (a superset of EUC-KR) when the bytes read as mostly Hangul in it: the legacy encoding
    of the Korean files this service expects, which a statistical guess misreads in short texts."""
    try:
        text = data.decode("cp949")
    except UnicodeDecodeError:
        return None
    foreign = [char for char in text if ord(char) > 127]
    hangul = sum(1 for char in foreign if "\uac00" <= char <= "\ud7a3" or "\u3131" <= char <= "\u318e")
    return text if foreign and hangul >= 0.8 * len(foreign) else None


def decode_text(data: bytes) -> str:
    """Bytes of a text file in whatever encoding (UTF-8, CP949/EUC-KR, Latin-1, ...)."""
    try:
        return codecs.decode(data, "utf-8-sig")
    except UnicodeDecodeError:
        pass
    korean = _as_korean(data)
    if korean is not None:
        return korean
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ExtractionError(
            UNREADABLE, gettext_noop("The file's text is in an encoding that could not be recognised.")
        )
    return str(best)


def _read_pdf(path: str, pages: _Pages) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError(UNREADABLE, gettext_noop("The PDF is protected by a password."))
        count = len(reader.pages)
    except PdfReadError as exc:
        raise ExtractionError(
            UNREADABLE, gettext_noop("The PDF could not be read (%(error)s)."), error=str(exc)
        ) from exc
    pages.check_count(count, "pages")
    for number, page in enumerate(reader.pages, start=1):
        if pages.full:
            break
        pages.add(number, page.extract_text() or "")


def _check_zip(path: str, limits: Limits) -> None:
    """A zip whose declared contents unpack past the limit is refused before any reader opens it."""
    try:
        with zipfile.ZipFile(path) as package:
            infos = package.infolist()
    except zipfile.BadZipFile as exc:
        raise ExtractionError(UNREADABLE, gettext_noop("The file is not a readable zip package.")) from exc
    unpacked = sum(info.file_size for info in infos)
    if len(infos) > MAX_ZIP_PARTS or unpacked > limits.max_unzipped_bytes:
        raise ExtractionError(
            TOO_LARGE,
            gettext_noop("The file unpacks to %(size)d MiB in %(parts)d parts; at most %(limit)d MiB is read."),
            size=unpacked // (1024 * 1024),
            parts=len(infos),
            limit=limits.max_unzipped_bytes // (1024 * 1024),
        )


def _docx_table_text(table) -> str:
    return "\n".join("\t".join(cell.text.strip() for cell in row.cells) for row in table.rows)


def _read_docx(path: str, pages: _Pages) -> None:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(path)
    qn = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    number, lines = 1, []
    # Pages as the author broke them (explicit page breaks); Word's own layout is not known here.
    for child in document.element.body.iterchildren():
        if child.tag == qn + "p":
            lines.append(Paragraph(child, document).text)
            if any(br.get(qn + "type") == "page" for br in child.iter(qn + "br")):
                pages.add(number, "\n".join(lines))
                number, lines = number + 1, []
                pages.check_count(number, "pages")
        elif child.tag == qn + "tbl":
            lines.append(_docx_table_text(Table(child, document)))
    pages.add(number, "\n".join(lines))


def _read_pptx(path: str, pages: _Pages) -> None:
    from pptx import Presentation

    presentation = Presentation(path)
    slides = list(presentation.slides)
    pages.check_count(len(slides), "slides")
    for number, slide in enumerate(slides, start=1):
        texts, title = [], ""
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                texts.append("\n".join("\t".join(c.text for c in row.cells) for row in shape.table.rows))
        if slide.shapes.title is not None and slide.shapes.title.has_text_frame:
            title = slide.shapes.title.text_frame.text.strip()
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            texts.append(slide.notes_slide.notes_text_frame.text)
        pages.add(number, "\n".join(texts), label=title)


def _cell_text(value) -> str:
    if value is None:
        return ""
    return str(value).replace("\t", " ").replace("\n", " ")


def _read_xlsx(path: str, pages: _Pages) -> None:
    from openpyxl import load_workbook

    # A file object: openpyxl refuses a path without an .xlsx extension (blobs have none).
    source = open(path, "rb")  # noqa: SIM115 (closed below with the workbook)
    workbook = load_workbook(source, read_only=True, data_only=True)
    try:
        sheets = workbook.worksheets
        pages.check_count(len(sheets), "sheets")
        for number, sheet in enumerate(sheets, start=1):
            rows = []
            for row in sheet.iter_rows(values_only=True):
                line = "\t".join(_cell_text(value) for value in row).rstrip("\t")
                if line.strip():
                    rows.append(line)
                if len(rows) >= pages.limits.max_sheet_rows:
                    break
            pages.add(number, "\n".join(rows), label=sheet.title)
    finally:
        workbook.close()
        source.close()


def _read_hwpx(path: str, pages: _Pages) -> None:
    from defusedxml import ElementTree

    with zipfile.ZipFile(path) as package:
        sections = sorted(
            (name for name in package.namelist() if re.fullmatch(r"Contents/section\d+\.xml", name)),
            key=lambda name: int(re.search(r"\d+", name.rsplit("/", 1)[1]).group()),
        )
        pages.check_count(len(sections), "sections")
        for number, name in enumerate(sections, start=1):
            root = ElementTree.fromstring(package.read(name))
            parts: list[str] = []
            # OWPML: paragraphs <hp:p> hold runs whose <hp:t> hold the text (tables nest paragraphs).
            for element in root.iter():
                local = element.tag.rsplit("}", 1)[-1]
                if local == "p":
                    parts.append("\n")
                elif local == "t":
                    parts.append("".join(element.itertext()))
            pages.add(number, "".join(parts), label=f"Section {number}")


def _read_html(data: bytes, pages: _Pages) -> None:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data), "lxml")
    for hidden in soup(["script", "style", "noscript", "template", "head"]):
        hidden.decompose()
    pages.add(1, soup.get_text("\n"))


def read(path: str, content_type: str, limits: Limits) -> list[Page]:
    """The pages of the file at ``path``; raises ``ExtractionError``."""
    pages = _Pages(limits)
    if content_type == PDF:
        _read_pdf(path, pages)
    elif content_type in (DOCX, PPTX, XLSX, HWPX):
        _check_zip(path, limits)
        {DOCX: _read_docx, PPTX: _read_pptx, XLSX: _read_xlsx, HWPX: _read_hwpx}[content_type](path, pages)
    elif content_type == HTML:
        _read_html(Path(path).read_bytes(), pages)
    elif content_type in (TEXT, MARKDOWN, CSV, JSON):
        pages.add(1, decode_text(Path(path).read_bytes()))
    else:
        raise ExtractionError(
            UNREADABLE, gettext_noop("Files of type %(type)s have no text to read."), type=content_type
        )
    if not pages.pages:
        detail = (
            gettext_noop("The PDF has no text layer (a scan or images only); text recognition (OCR) is not done here.")
            if content_type == PDF
            else gettext_noop("The file has no text.")
        )
        raise ExtractionError(NO_TEXT, detail)
    return pages.pages


def _limit_self(limits: Limits) -> None:
    """The child's own bounds, set first thing (not by a ``preexec_fn`` in the parent: the job
    worker has threads, and forking with a Python callback in a threaded process can deadlock)."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    cpu = max(1, int(limits.timeout_seconds) + 1)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    # A reader writes no file (its answer goes to stdout, a pipe, which this does not bound): a write
    # to one fails (EFBIG, with SIGXFSZ ignored, instead of killing the child silently).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    # The file being read, the standard streams, the modules a reader imports: a few descriptors.
    resource.setrlimit(resource.RLIMIT_NOFILE, (CHILD_MAX_OPEN_FILES, CHILD_MAX_OPEN_FILES))


_NEEDED_MEMORY = gettext_noop("Reading the file needed more memory than is allowed.")


def _child_main(argv: list[str]) -> int:
    path, content_type, limits_json = argv
    limits = Limits(**json.loads(limits_json))
    _limit_self(limits)
    try:
        result: dict = {"pages": [page.__dict__ for page in read(path, content_type, limits)]}
    except ExtractionError as exc:
        result = {"error": exc.code, "detail": exc.detail, "message": exc.message, "params": exc.params}
    except MemoryError:
        result = {"error": TOO_LARGE, "detail": _NEEDED_MEMORY, "message": _NEEDED_MEMORY}
    except Exception as exc:  # a reader's own error on a damaged file
        message = gettext_noop("The file could not be read (%(error)s)")
        params = {"error": f"{type(exc).__name__}: {exc}"[:250]}
        result = {"error": UNREADABLE, "detail": message % params, "message": message, "params": params}
    sys.stdout.write(json.dumps(result, ensure_ascii=False))
    return 0


# --- the parent's side ------------------------------------------------------------------------------


# The only variables the child is given: never the parent's secrets (DJANGO_SECRET_KEY, DATABASE_URL,
# upstream API keys), which a reader tricked by a file could otherwise leak. The interpreter is the
# parent's own (``sys.executable``, the virtualenv's); the project root, on PYTHONPATH and as the
# working directory, is where ``files.extraction`` and ``files.types`` are imported from.
_CHILD_PASSED_VARIABLES = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "OPENPYXL_DEFUSEDXML")
CHILD_MAX_OPEN_FILES = 32


def child_env() -> dict[str, str]:
    env = {name: os.environ[name] for name in _CHILD_PASSED_VARIABLES if name in os.environ}
    env.update(
        PYTHONPATH=str(_PROJECT_ROOT),
        PYTHONIOENCODING="utf-8",
        PYTHONDONTWRITEBYTECODE="1",  # the child may write no file (RLIMIT_FSIZE 0), .pyc included
    )
    return env


def _child_command(path: str, content_type: str, limits: Limits) -> list[str]:
    return [sys.executable, "-m", "files.extraction", path, content_type, json.dumps(limits.__dict__)]


def _kill_group(child: subprocess.Popen) -> None:
    """The child and anything it started (its own session: its process group has its pid)."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def extract_bounded(path: str, content_type: str, limits: Limits) -> Outcome:
    """Read the file in a child process within ``limits``; never raises for a bad file."""
    # stderr goes nowhere: a reader's warnings on a damaged file (pypdf logs one per broken object)
    # would otherwise be buffered whole in the worker. stdout holds the answer, bounded by max_chars.
    with subprocess.Popen(  # noqa: S603 (our own interpreter and module, arguments not from a shell)
        _child_command(path, content_type, limits),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=_PROJECT_ROOT,
        env=child_env(),
        start_new_session=True,
    ) as child:
        try:
            stdout, _stderr = child.communicate(timeout=limits.timeout_seconds)
        except subprocess.TimeoutExpired:
            # Not yet reaped, so its pid (the group's id) is still its own.
            _kill_group(child)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.communicate(timeout=5)
            message = gettext_noop("Reading the file took longer than %(seconds)s seconds.")
            params = {"seconds": f"{limits.timeout_seconds:g}"}
            return Outcome(error=TIMEOUT, detail=message % params, message=message, params=params)
    if child.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        message = gettext_noop("Reading the file used more processor time than is allowed.")
        return Outcome(error=TIMEOUT, detail=message, message=message)
    try:
        result = json.loads(stdout.decode("utf-8"))
    except ValueError:
        # A reader that died without answering: most often an allocation refused by RLIMIT_AS.
        return Outcome(error=TOO_LARGE, detail=_NEEDED_MEMORY, message=_NEEDED_MEMORY)
    if "error" in result:
        return Outcome(
            error=result["error"],
            detail=result.get("detail", "")[:300],
            message=result.get("message", ""),
            params=result.get("params") or {},
        )
    return Outcome(pages=[Page(**page) for page in result["pages"]])


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
