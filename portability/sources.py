"""Reading an uploaded file: which kind it is, told from its content (never from its name), and its
entries, each parsed only when the import reaches it.

Accepted: a ChatGPT ``conversations.json`` (a list of conversations), our conversation document or
a list of them, our ``chat-server.conversations`` bundle, and zips holding one of these as
``conversations.json`` (a ChatGPT data export as downloaded), or our user export (its
``manifest.json`` says so; collector items, their files and todos come in too).
"""

import json
import posixpath
import zipfile
from dataclasses import dataclass, field
from typing import IO

from . import chatgpt, conf, documents
from .data import ConversationData, Entry, EntryError, FileError
from .models import SourceFormat

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
CONVERSATIONS_JSON = "conversations.json"
MANIFEST_JSON = "manifest.json"
ITEMS_JSON = "collector/items.json"
TODOS_JSON = "todos.json"
_NOT_OURS = "Expected a ChatGPT data export (its conversations.json, or the zip holding it) or a chat-server export."


@dataclass
class Source:
    format: str
    conversations: list[Entry]
    items: list[Entry] = field(default_factory=list)
    todos: list[Entry] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)
    archive: zipfile.ZipFile | None = None

    def read_member(self, path: str, *, limit: int) -> bytes:
        """A file inside the archive (a collector item's bytes), at most ``limit`` bytes."""
        if self.archive is None:
            raise EntryError("files come only inside a zip")
        try:
            info = self.archive.getinfo(path)
        except KeyError as exc:
            raise EntryError(f"the zip has no file {path[:100]!r}") from exc
        if info.file_size > limit:
            raise EntryError(f"{path[:100]!r} is larger than {limit} bytes")
        with self.archive.open(info) as member:
            data = member.read(limit + 1)
        if len(data) > limit:
            raise EntryError(f"{path[:100]!r} is larger than {limit} bytes")
        return data

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


# --- cheap checks at upload time --------------------------------------------------------------


def _head(fileobj: IO[bytes], size: int = 512) -> bytes:
    fileobj.seek(0)
    head = fileobj.read(size)
    fileobj.seek(0)
    return head


def sniff(fileobj: IO[bytes]) -> None:
    """Refuse at once what can be told from the first bytes or a zip's directory (``FileError``);
    the rest is found out by the job."""
    head = _head(fileobj)
    if not head:
        raise FileError("The file is empty.")
    if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        try:
            with zipfile.ZipFile(fileobj) as archive:
                _conversations_member(archive)
        except zipfile.BadZipFile as exc:
            raise FileError("The file is not a readable zip.") from exc
        finally:
            fileobj.seek(0)
        return
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start not in (b"[", b"{"):
        raise FileError(f"The file is not JSON (nor a zip). {_NOT_OURS}")


# --- reading -----------------------------------------------------------------------------------


def _load_json(data: bytes | IO[bytes], *, name: str):
    try:
        return json.loads(data) if isinstance(data, bytes) else json.load(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileError(f"{name} is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise FileError(f"{name} is nested too deeply to read.") from exc


def _conversations_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    candidates = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and posixpath.basename(info.filename) == CONVERSATIONS_JSON
        and not info.filename.startswith("__MACOSX/")
    ]
    if not candidates:
        raise FileError(f"The zip has no {CONVERSATIONS_JSON}. {_NOT_OURS}")
    return min(candidates, key=lambda info: (info.filename.count("/"), info.filename))


def _read_json_member(archive: zipfile.ZipFile, name: str, *, required: bool = True):
    try:
        info = archive.getinfo(name)
    except KeyError as exc:
        if not required:
            return None
        raise FileError(f"The zip has no {name}.") from exc
    limit = conf.max_unzipped_bytes()
    if info.file_size > limit:
        raise FileError(f"{name} is larger than {limit} bytes unzipped.")
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise FileError(f"{name} cannot be read from the zip: {exc}") from exc
    if len(data) > limit:
        raise FileError(f"{name} is larger than {limit} bytes unzipped.")
    return _load_json(data, name=name)


def _title_of(raw) -> str:
    title = raw.get("title") if isinstance(raw, dict) else None
    return title[:200] if isinstance(title, str) else ""


def _entries(raws: list) -> list[Entry]:
    return [Entry(index=index, raw=raw, title=_title_of(raw)) for index, raw in enumerate(raws)]


def _conversation_list(document, *, name: str) -> tuple[str, list]:
    """The conversations a JSON document holds, and which format they are in."""
    if isinstance(document, list):
        if document and not any(isinstance(raw, dict) for raw in document):
            raise FileError(f"{name} is a list, but none of its entries is a conversation. {_NOT_OURS}")
        first = next((raw for raw in document if isinstance(raw, dict)), None)
        kind = SourceFormat.CHAT_SERVER if documents.document_format(first) else SourceFormat.CHATGPT
        return kind, document
    kind = documents.document_format(document)
    if kind == documents.CONVERSATION_FORMAT:
        return SourceFormat.CHAT_SERVER, [document]
    if kind == documents.CONVERSATIONS_FORMAT:
        try:
            documents.check_version(document)
        except EntryError as exc:
            raise FileError(f"{name}: {exc}") from exc
        conversations = document.get("conversations")
        if not isinstance(conversations, list):
            raise FileError(f"{name}: 'conversations' must be a list.")
        return SourceFormat.CHAT_SERVER, conversations
    if chatgpt.looks_like_conversation(document):
        return SourceFormat.CHATGPT, [document]
    if isinstance(document, dict):
        raise FileError(f"{name} is a JSON object, not a list of conversations. {_NOT_OURS}")
    raise FileError(f"{name} is not a list of conversations. {_NOT_OURS}")


def _read_user_archive(archive: zipfile.ZipFile, manifest: dict) -> Source:
    try:
        documents.check_version(manifest)
    except EntryError as exc:
        raise FileError(f"{MANIFEST_JSON}: {exc}") from exc
    _, conversations = _conversation_list(_read_json_member(archive, CONVERSATIONS_JSON), name=CONVERSATIONS_JSON)
    items = _read_json_member(archive, ITEMS_JSON, required=False) or []
    todos = _read_json_member(archive, TODOS_JSON, required=False) or []
    for name, value in ((ITEMS_JSON, items), (TODOS_JSON, todos)):
        if not isinstance(value, list):
            raise FileError(f"{name} must be a list.")
    return Source(
        format=SourceFormat.USER_ARCHIVE,
        conversations=_entries(conversations),
        items=_entries(items),
        todos=_entries(todos),
        manifest=manifest,
        archive=archive,
    )


def _read_zip(fileobj: IO[bytes]) -> Source:
    try:
        archive = zipfile.ZipFile(fileobj)
    except zipfile.BadZipFile as exc:
        raise FileError("The file is not a readable zip.") from exc
    try:
        try:
            manifest = _read_json_member(archive, MANIFEST_JSON, required=False)
        except FileError:
            manifest = None  # someone else's manifest: not ours, so not a user export
        if documents.document_format(manifest) == documents.USER_EXPORT_FORMAT:
            return _read_user_archive(archive, manifest)
        member = _conversations_member(archive)
        kind, conversations = _conversation_list(_read_json_member(archive, member.filename), name=member.filename)
    except BaseException:
        archive.close()
        raise
    archive.close()
    return Source(format=kind, conversations=_entries(conversations))


def read_source(fileobj: IO[bytes]) -> Source:
    """The file's entries (``FileError`` when it is none of the accepted kinds)."""
    head = _head(fileobj)
    if not head:
        raise FileError("The file is empty.")
    if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return _read_zip(fileobj)
    kind, conversations = _conversation_list(_load_json(fileobj, name="The file"), name="The file")
    return Source(format=kind, conversations=_entries(conversations))


def parse_conversation(raw) -> ConversationData:
    """One conversation entry, whichever of the accepted formats it is in (``EntryError`` if none)."""
    if documents.document_format(raw) == documents.CONVERSATION_FORMAT:
        return documents.conversation_from_document(raw)
    if chatgpt.looks_like_conversation(raw):
        return chatgpt.conversation_from_chatgpt(raw)
    if not isinstance(raw, dict):
        raise EntryError(f"a conversation must be an object, not {type(raw).__name__}")
    raise EntryError(f"neither a ChatGPT conversation (no 'mapping') nor a {documents.CONVERSATION_FORMAT} document")
