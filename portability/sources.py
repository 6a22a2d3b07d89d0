"""Reading an uploaded file: which kind it is, told from its content (never from its name), and its
entries, each read and parsed only when the import reaches it.

Accepted: a ChatGPT ``conversations.json`` (a list of conversations), our conversation document or
a list of them, our ``chat-server.conversations`` bundle, and zips holding one of these as
``conversations.json`` (a ChatGPT data export as downloaded), or our user export (its
``manifest.json`` says so; its files, collector items and todos come in too).

No file is ever loaded whole: each JSON is read as a stream (``jsonstream``), first once to check it
and count its entries, then once more, one entry at a time, as the import goes. The limits are in
``conf`` (one entry's bytes and values, the entries of a list, the unzipped size, the time).
"""

import contextlib
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from core import zips

from . import chatgpt, conf, documents
from .data import ConversationData, Entry, EntryError, FileError
from .jsonstream import READ_ERRORS, JsonFile, Limits
from .models import SourceFormat

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
CONVERSATIONS_JSON = "conversations.json"
MANIFEST_JSON = "manifest.json"
SETTINGS_JSON = "settings.json"
ITEMS_JSON = "collector/items.json"
TODOS_JSON = "todos.json"
FILES_JSON = "files/files.json"
# The most of a zip's central directory opened (core/zips.py says why): some 40,000 files.
MAX_ZIP_DIRECTORY_BYTES = zips.MAX_DIRECTORY_BYTES
_NOT_OURS = "Expected a ChatGPT data export (its conversations.json, or the zip holding it) or a chat-server export."


class Entries:
    """The entries of one list of a file: counted by the first pass (``len``), then read one at a
    time, each time the list is iterated (never all of them in memory)."""

    def __init__(self, file: JsonFile | None = None, *, count: int = 0, list_key: str | None = None, whole=False):
        self.file, self.count, self.list_key, self.whole = file, count, list_key, whole

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Entry]:
        if self.file is None:
            return
        raws = [self.file.whole()] if self.whole else self.file.entries(list_key=self.list_key)
        for raw in raws:
            yield Entry(index=raw.index, raw=raw.value, title=raw.title, error=raw.error)


@dataclass
class Source:
    format: str
    conversations: Entries
    items: Entries = field(default_factory=Entries)
    todos: Entries = field(default_factory=Entries)
    files: Entries = field(default_factory=Entries)
    manifest: dict = field(default_factory=dict)
    # A user export's settings.json (an object; {} when absent or unreadable): only its custom
    # instructions are brought in (``importing.ImportRun``).
    settings: dict = field(default_factory=dict)
    archive: zipfile.ZipFile | None = None
    # The collector files read out of the archive so far, by where their bytes start (a zip naming
    # one member for many items, or listing the same bytes under many names, would otherwise be
    # stored again and again), and the bytes read in all: at most ``conf.max_unzipped_bytes()``.
    members_read: dict[int, tuple[str, int]] = field(default_factory=dict)
    member_bytes_read: int = 0

    def member_size(self, path: str) -> int:
        """The size a file inside the archive declares (``EntryError`` when it is not there)."""
        return self._member(path).file_size

    def _member(self, path: str) -> zipfile.ZipInfo:
        if self.archive is None:
            raise EntryError("files come only inside a zip")
        try:
            return self.archive.getinfo(path)
        except KeyError as exc:
            raise EntryError(f"the zip has no file {path[:100]!r}") from exc

    def read_member(self, path: str, *, limit: int, reader: int | None = None, what: str = "item") -> bytes:
        """A file inside the archive (a stored file's or a collector item's bytes), at most ``limit`` bytes; each file
        once per import (``reader``: the index of the entry reading it, named when another asks)."""
        info = self._member(path)
        if info.header_offset in self.members_read:
            first_what, first = self.members_read[info.header_offset]
            raise EntryError(
                f"{path[:100]!r} was read for {first_what} {first} already (each file of the zip is read once)"
            )
        if info.file_size > limit:
            raise EntryError(f"{path[:100]!r} is larger than {limit} bytes")
        budget = conf.max_unzipped_bytes() - self.member_bytes_read
        if info.file_size > budget:
            raise EntryError(f"the import has read {conf.max_unzipped_bytes()} bytes of files, its limit")
        self.members_read[info.header_offset] = (what, reader if reader is not None else -1)
        try:
            with self.archive.open(info) as member:
                data = member.read(min(limit, budget) + 1)
        except READ_ERRORS as exc:
            raise EntryError(f"{path[:100]!r} cannot be read from the zip: {exc}") from exc
        self.member_bytes_read += len(data)
        if len(data) > limit:
            raise EntryError(f"{path[:100]!r} is larger than {limit} bytes")
        if len(data) > budget:
            raise EntryError(f"the import has read {conf.max_unzipped_bytes()} bytes of files, its limit")
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


def _open_zip(fileobj: IO[bytes]) -> zipfile.ZipFile:
    """The zip, opened only when its directory is small enough to hold in memory (``FileError``)."""
    try:
        directory = zips.zip_directory(fileobj)
        directory_bytes = directory.directory_bytes if directory is not None else 0
        if directory_bytes <= MAX_ZIP_DIRECTORY_BYTES:
            fileobj.seek(0)
            return zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise FileError("The file is not a readable zip.") from exc
    raise FileError(
        f"The zip lists too many files (its directory is {directory_bytes} bytes; "
        f"at most {MAX_ZIP_DIRECTORY_BYTES} are read)."
    )


def sniff(fileobj: IO[bytes]) -> None:
    """Refuse at once what can be told from the first bytes or a zip's directory (``FileError``);
    the rest is found out by the job."""
    head = _head(fileobj)
    if not head:
        raise FileError("The file is empty.")
    if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        try:
            with _open_zip(fileobj) as archive:
                _conversations_member(archive)
        finally:
            fileobj.seek(0)
        return
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start not in (b"[", b"{"):
        raise FileError(f"The file is not JSON (nor a zip). {_NOT_OURS}")


# --- reading -----------------------------------------------------------------------------------


def _limits(*, deadline: float | None) -> Limits:
    return Limits(
        entries=conf.max_import_entries(),
        entry_bytes=conf.max_entry_bytes(),
        entry_values=conf.max_entry_values(),
        total_bytes=conf.max_unzipped_bytes(),
        deadline=deadline,
    )


def _plain_file(fileobj: IO[bytes], *, limits: Limits) -> JsonFile:
    def opener():
        fileobj.seek(0)
        return contextlib.nullcontext(fileobj)

    return JsonFile(opener, name="The file", limits=limits, what="conversation")


def _member_file(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, limits: Limits, what: str) -> JsonFile:
    if info.file_size > limits.total_bytes:
        raise FileError(f"{info.filename} is larger than {limits.total_bytes} bytes unzipped.")

    def opener():
        try:
            return archive.open(info)
        except (
            zipfile.BadZipFile,
            OSError,
            EOFError,
            NotImplementedError,
            RuntimeError,
        ) as exc:  # RuntimeError: encrypted
            raise FileError(f"{info.filename} cannot be read from the zip: {exc}") from exc

    return JsonFile(opener, name=info.filename, limits=limits, what=what)


def _member(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo | None:
    try:
        return archive.getinfo(name)
    except KeyError:
        return None


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


def _conversations(file: JsonFile) -> tuple[str, Entries]:
    """The conversations a JSON file holds, and which format they are in (a first pass over it)."""
    name = file.name
    shape = file.scan(list_key="conversations", header_keys=("format", "version"), other_keys=("mapping",))
    if shape.kind == "array":
        if shape.count and not shape.any_object:
            raise FileError(f"{name} is a list, but none of its entries is a conversation. {_NOT_OURS}")
        kind = SourceFormat.CHAT_SERVER if documents.document_format(shape.first_object) else SourceFormat.CHATGPT
        return kind, Entries(file, count=shape.count)
    if shape.kind == "object":
        kind = documents.document_format(shape.header)
        if kind == documents.CONVERSATIONS_FORMAT:
            try:
                documents.check_version(shape.header)
            except EntryError as exc:
                raise FileError(f"{name}: {exc}") from exc
            if not shape.has_list:
                raise FileError(f"{name}: 'conversations' must be a list.")
            return SourceFormat.CHAT_SERVER, Entries(file, count=shape.count, list_key="conversations")
        if kind == documents.CONVERSATION_FORMAT:
            return SourceFormat.CHAT_SERVER, Entries(file, count=1, whole=True)
        if "mapping" in shape.keys:
            return SourceFormat.CHATGPT, Entries(file, count=1, whole=True)
        raise FileError(f"{name} is a JSON object, not a list of conversations. {_NOT_OURS}")
    raise FileError(f"{name} is not a list of conversations. {_NOT_OURS}")


def _list_member(archive: zipfile.ZipFile, name: str, *, limits: Limits, what: str) -> Entries:
    info = _member(archive, name)
    if info is None:
        return Entries()
    file = _member_file(archive, info, limits=limits, what=what)
    shape = file.scan()
    if shape.kind != "array":
        raise FileError(f"{name} must be a list.")
    return Entries(file, count=shape.count)


def _manifest(archive: zipfile.ZipFile, *, limits: Limits) -> dict | None:
    info = _member(archive, MANIFEST_JSON)
    if info is None:
        return None
    try:
        manifest = _member_file(archive, info, limits=limits, what="manifest").whole()
    except FileError:
        return None  # someone else's manifest: not ours, so not a user export
    return manifest.value if isinstance(manifest.value, dict) else None


def _settings(archive: zipfile.ZipFile, *, limits: Limits) -> dict:
    info = _member(archive, SETTINGS_JSON)
    if info is None:
        return {}
    try:
        value = _member_file(archive, info, limits=limits, what="settings").whole().value
    except FileError:
        return {}  # the settings are a nicety: the rest of the export comes in without them
    return value if isinstance(value, dict) else {}


def _read_user_archive(archive: zipfile.ZipFile, manifest: dict, *, limits: Limits) -> Source:
    try:
        documents.check_version(manifest)
    except EntryError as exc:
        raise FileError(f"{MANIFEST_JSON}: {exc}") from exc
    info = _member(archive, CONVERSATIONS_JSON)
    if info is None:
        raise FileError(f"The zip has no {CONVERSATIONS_JSON}.")
    _, conversations = _conversations(_member_file(archive, info, limits=limits, what="conversation"))
    return Source(
        format=SourceFormat.USER_ARCHIVE,
        conversations=conversations,
        items=_list_member(archive, ITEMS_JSON, limits=limits, what="item"),
        todos=_list_member(archive, TODOS_JSON, limits=limits, what="todo"),
        files=_list_member(archive, FILES_JSON, limits=limits, what="file"),
        manifest=manifest,
        settings=_settings(archive, limits=limits),
        archive=archive,
    )


def _read_zip(fileobj: IO[bytes], *, limits: Limits) -> Source:
    archive = _open_zip(fileobj)
    try:
        manifest = _manifest(archive, limits=limits)
        if documents.document_format(manifest) == documents.USER_EXPORT_FORMAT:
            return _read_user_archive(archive, manifest, limits=limits)
        member = _conversations_member(archive)
        kind, conversations = _conversations(_member_file(archive, member, limits=limits, what="conversation"))
    except BaseException:
        archive.close()
        raise
    # The archive stays open: the conversations are read from it as the import goes.
    return Source(format=kind, conversations=conversations, archive=archive)


def zip_manifest(fileobj: IO[bytes]) -> dict | None:
    """The ``manifest.json`` of a zip, read within the same limits as an import's (None when the
    zip has none, or none that can be read as an object); ``FileError`` when it is no zip."""
    with _open_zip(fileobj) as archive:
        return _manifest(archive, limits=_limits(deadline=None))


def read_source(fileobj: IO[bytes], *, deadline: float | None = None) -> Source:
    """The file checked, and its entries ready to be read one at a time (``FileError`` when it is
    none of the accepted kinds, or breaks a limit of the whole file). ``fileobj`` must stay open
    while the entries are read."""
    head = _head(fileobj)
    if not head:
        raise FileError("The file is empty.")
    limits = _limits(deadline=deadline)
    if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return _read_zip(fileobj, limits=limits)
    kind, conversations = _conversations(_plain_file(fileobj, limits=limits))
    return Source(format=kind, conversations=conversations)


def parse_conversation(raw) -> ConversationData:
    """One conversation entry, whichever of the accepted formats it is in (``EntryError`` if none)."""
    if documents.document_format(raw) == documents.CONVERSATION_FORMAT:
        return documents.conversation_from_document(raw)
    if chatgpt.looks_like_conversation(raw):
        return chatgpt.conversation_from_chatgpt(raw)
    if not isinstance(raw, dict):
        raise EntryError(f"a conversation must be an object, not {type(raw).__name__}")
    raise EntryError(f"neither a ChatGPT conversation (no 'mapping') nor a {documents.CONVERSATION_FORMAT} document")
