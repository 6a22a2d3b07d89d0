"""JSON read as a stream with every size bounded, so what an import holds in memory never depends on
the file: a JSON file is never loaded whole, only one entry (a conversation, an item, a todo) at a
time, and that entry only within its limits.

ijson's C backend (yajl) turns the bytes into events; the walker here builds values from them and
counts as it goes:

- an entry of more than ``Limits.entry_bytes`` bytes or ``Limits.entry_values`` JSON values (keys
  count too) is not kept: it is read to its end holding nothing, and reported with the limit it
  broke, so the entries after it still come in;
- one string or number longer than ``entry_bytes`` (yajl would have to hold it whole before
  handing it over), nesting deeper than ``MAX_DEPTH``, more entries than ``Limits.entries``, more
  than ``Limits.total_bytes`` in all, or a file still being read at ``Limits.deadline`` end the
  file (``FileError``), at once, holding nothing more than the bytes read so far.

Numbers are read as ``int`` and ``float`` (as ``json.loads`` does); yajl refuses integers beyond
64 bits, ``NaN`` and ``Infinity``, which no export holds.
"""

import lzma
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import IO

import ijson
from django.utils.translation import gettext as _

from .data import FileError

# Nesting deeper than this ends the file: the deepest export (a ChatGPT conversation's metadata)
# nests about 15 levels, and yajl keeps a byte per level it is in.
MAX_DEPTH = 100
# What ijson reads at a time: the granularity of the byte counts below. yajl scans a string that
# spans reads again from its start at each read, so a long string costs (its length / READ_SIZE)
# times its length: 64 KiB keeps a 16 MiB string to about a second.
READ_SIZE = 64 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"
_OPEN = frozenset(("start_map", "start_array"))
_CLOSE = frozenset(("end_map", "end_array"))

# What reading a broken stream raises: a truncated file, a zip member with a bad CRC or corrupt
# compressed data (zlib's and lzma's own errors), an encrypted or unknown compression.
READ_ERRORS = (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error, lzma.LZMAError, RuntimeError)

Opener = Callable[[], AbstractContextManager[IO[bytes]]]


class ImportTimedOut(FileError):
    """The file was still being read when the import's time was up."""


@dataclass(frozen=True)
class Limits:
    entries: int  # entries in one list
    entry_bytes: int  # bytes of one entry (and of one string or number in it)
    entry_values: int  # JSON values (and keys) of one entry
    total_bytes: int  # bytes of the whole file
    deadline: float | None = None  # time.monotonic() by which the file must have been read


@dataclass
class Raw:
    """One entry as read: its value, or (over a limit) nothing and the ``error`` saying which."""

    index: int
    value: object = None
    error: str = ""
    title: str = ""  # what the entry calls itself, when known even without its value
    is_object: bool = False  # the entry is a JSON object (known even when it was not built)


@dataclass
class Shape:
    """What a first pass over a file found: the top-level value's kind, and the entries to import."""

    kind: str  # "array", "object" or "scalar"
    count: int = 0  # elements of the top-level array, or of the object's array at ``list_key``
    has_list: bool = False  # (an object) its ``list_key`` holds an array
    header: dict = field(default_factory=dict)  # (an object) the top-level fields asked for
    keys: set = field(default_factory=set)  # (an object) which of the fields asked for it has
    first_object: dict | None = None  # the first element that is an object (within the limits)
    any_object: bool = False


class _ValueTooLarge(Exception):
    pass


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB" if size >= 1024 * 1024 else f"{size} bytes"


def _title_of(value) -> str:
    title = value.get("title") if isinstance(value, dict) else None
    return title[:200] if isinstance(title, str) else ""


class _Reader:
    """The file object ijson reads: counts bytes, drops a UTF-8 BOM, and stops a file that is too
    long, too slow, or holds one value too long to hand over (no event for ``entry_bytes``)."""

    def __init__(self, raw: IO[bytes], *, name: str, limits: Limits):
        self.raw, self.name, self.limits = raw, name, limits
        self.position = 0  # bytes read
        self.mark = 0  # ``position`` when the walker last saw an event
        self._started = False

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson asks once, to tell bytes from text
            return b""
        if self.position - self.mark > self.limits.entry_bytes:
            raise _ValueTooLarge
        if self.limits.deadline is not None and time.monotonic() > self.limits.deadline:
            raise ImportTimedOut(
                _("%(name)s was still being read when the import's time was up.") % {"name": self.name}
            )
        try:
            data = self.raw.read(size if size > 0 else READ_SIZE)
        except READ_ERRORS as exc:
            raise FileError(_("%(name)s cannot be read: %(error)s") % {"name": self.name, "error": exc}) from exc
        if not self._started:
            self._started = True
            if data.startswith(_UTF8_BOM):
                data = data[len(_UTF8_BOM) :]
        self.position += len(data)
        if self.position > self.limits.total_bytes:
            raise FileError(
                _("%(name)s is larger than %(size)s.") % {"name": self.name, "size": _mib(self.limits.total_bytes)}
            )
        return data


def _not_json(name: str, exc: Exception) -> str:
    return _("%(name)s is not valid JSON: %(error)s") % {"name": name, "error": _json_error(exc)}


def _json_error(exc: Exception) -> str:
    message = exc.args[0] if exc.args else str(exc)
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    lines = str(message).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class _Walk:
    """One pass over one file: the events, and the values built from them within the limits."""

    def __init__(self, raw: IO[bytes], *, name: str, limits: Limits, what: str):
        self.name, self.limits, self.what = name, limits, what
        self.reader = _Reader(raw, name=name, limits=limits)
        self.events = ijson.basic_parse(self.reader, use_float=True, buf_size=READ_SIZE)
        self.depth = 0  # containers open around the next event
        self.index = -1  # the entry being read, for messages

    def next(self) -> tuple[str, object]:
        try:
            event, value = next(self.events)
        except StopIteration:
            raise FileError(_("%(name)s ends too early.") % {"name": self.name}) from None
        except _ValueTooLarge:
            where = f"{self.what} {self.index}" if self.index >= 0 else _("it")
            raise FileError(
                _(
                    "%(name)s: %(where)s holds a single value larger than %(size)s (the limit of one entry); "
                    "the file cannot be read past it."
                )
                % {"name": self.name, "where": where, "size": _mib(self.limits.entry_bytes)}
            ) from None
        except ijson.JSONError as exc:
            raise FileError(_not_json(self.name, exc)) from None
        self.reader.mark = self.reader.position
        if event in _OPEN:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise FileError(
                    _("%(name)s is nested deeper than %(depth)d levels.") % {"name": self.name, "depth": MAX_DEPTH}
                )
        elif event in _CLOSE:
            self.depth -= 1
        return event, value

    def end(self) -> None:
        """The file must end after its value."""
        try:
            event = next(self.events, None)
        except (ijson.JSONError, _ValueTooLarge) as exc:
            raise FileError(_not_json(self.name, exc)) from None
        if event is not None:
            raise FileError(_("%(name)s holds more than one JSON value.") % {"name": self.name})

    def skip(self, event: str) -> None:
        """Read past the value that ``event`` began, keeping nothing."""
        if event in _OPEN:
            self.skip_to(self.depth - 1)

    def build(self, event: str, value) -> tuple[object, str, str]:
        """The value that ``event`` began, built within one entry's limits: ``(value, "", title)``,
        or ``(None, error, title)`` when it broke one (it is then read to its end and dropped)."""
        if event not in _OPEN:
            return value, "", ""
        limits, reader = self.limits, self.reader
        start, count = reader.position, 1
        root: dict | list = {} if event == "start_map" else []
        stack: list = [root]
        keys: list = [None]
        floor = self.depth - 1
        while self.depth > floor:
            event, value = self.next()
            if event not in _CLOSE:
                count += 1
            if count > limits.entry_values or reader.position - start > limits.entry_bytes:
                title = _title_of(root)
                del root, stack, keys  # nothing of an entry over its limits stays in memory
                self.skip_to(floor)
                if count > limits.entry_values:
                    return (
                        None,
                        _("it holds more than %(count)d JSON values (the limit of one entry)")
                        % {"count": limits.entry_values},
                        title,
                    )
                return (
                    None,
                    _("it is larger than %(size)s (the limit of one entry)") % {"size": _mib(limits.entry_bytes)},
                    title,
                )
            if event == "map_key":
                keys[-1] = value
                continue
            if event in _CLOSE:
                stack.pop()
                keys.pop()
                continue
            if event in _OPEN:
                value = {} if event == "start_map" else []
            parent = stack[-1]
            if type(parent) is dict:
                parent[keys[-1]] = value
            else:
                parent.append(value)
            if event in _OPEN:
                stack.append(value)
                keys.append(None)
        return root, "", _title_of(root)

    def skip_to(self, floor: int) -> None:
        while self.depth > floor:
            self.next()

    def elements(self, *, build: bool | Callable[[int], bool] = True) -> Iterator[Raw]:
        """The elements of the array just opened, one at a time (each built when ``build`` says so),
        at most ``Limits.entries`` of them."""
        index = 0
        while True:
            event, value = self.next()
            if event == "end_array":
                return
            if index >= self.limits.entries:
                raise FileError(
                    _(
                        "%(name)s holds more than %(count)d entries (%(what)ss; the limit of one import); "
                        "split it or ask the operator."
                    )
                    % {"name": self.name, "count": self.limits.entries, "what": self.what}
                )
            self.index = index
            is_object = event == "start_map"
            if build(index) if callable(build) else build:
                built, error, title = self.build(event, value)
                yield Raw(index=index, value=built, error=error, title=title, is_object=is_object)
            else:
                self.skip(event)
                yield Raw(index=index, is_object=is_object)
            index += 1


class JsonFile:
    """A JSON file read as often as needed, each time from its start (``opener`` gives the stream)."""

    def __init__(self, opener: Opener, *, name: str, limits: Limits, what: str = "entry"):
        self.opener, self.name, self.limits, self.what = opener, name, limits, what

    def _walk(self, raw: IO[bytes]) -> _Walk:
        return _Walk(raw, name=self.name, limits=self.limits, what=self.what)

    def scan(
        self, *, list_key: str | None = None, header_keys: tuple[str, ...] = (), other_keys: tuple[str, ...] = ()
    ) -> Shape:
        """A first pass over the whole file, keeping almost nothing: the top-level value's kind; for
        an array, its elements counted and the first object among them; for an object, which of
        ``header_keys`` and ``other_keys`` it has (the values of ``header_keys`` built within one
        entry's limits) and the elements of its array at ``list_key`` counted the same way. Every
        file-wide rule is checked here, so a file that passes is read again without surprises."""
        with self.opener() as raw:
            walk = self._walk(raw)
            event, _skipped = walk.next()
            shape = Shape(kind="array" if event == "start_array" else "object" if event == "start_map" else "scalar")
            if event == "start_array":
                self._count(walk, shape)
            elif event == "start_map":
                while True:
                    event, key = walk.next()
                    if event == "end_map":
                        break
                    event, value = walk.next()
                    if key == list_key and event == "start_array" and not shape.has_list:
                        shape.has_list = True
                        shape.keys.add(key)
                        self._count(walk, shape)
                    elif key in header_keys:
                        shape.keys.add(key)
                        built, error, _title = walk.build(event, value)
                        if error:
                            raise FileError(
                                _("%(name)s: its '%(key)s' is too large (%(error)s).")
                                % {"name": self.name, "key": key, "error": error}
                            )
                        shape.header[key] = built
                    else:
                        if key in other_keys:
                            shape.keys.add(key)
                        walk.skip(event)
            walk.end()
        return shape

    def _count(self, walk: _Walk, shape: Shape) -> None:
        def build(index: int) -> bool:
            return shape.first_object is None

        for raw in walk.elements(build=build):
            shape.count += 1
            shape.any_object = shape.any_object or raw.is_object
            if shape.first_object is None and isinstance(raw.value, dict):
                shape.first_object = raw.value

    def entries(self, *, list_key: str | None = None) -> Iterator[Raw]:
        """The elements of the top-level array (or of the top-level object's array at ``list_key``),
        each built within one entry's limits, one at a time."""
        with self.opener() as raw:
            walk = self._walk(raw)
            event, _skipped = walk.next()
            if list_key is None:
                if event != "start_array":
                    raise FileError(_("%(name)s is not a list.") % {"name": self.name})
                yield from walk.elements()
                return
            if event != "start_map":
                raise FileError(_("%(name)s is not an object.") % {"name": self.name})
            while True:
                event, key = walk.next()
                if event == "end_map":
                    raise FileError(_("%(name)s has no '%(key)s' list.") % {"name": self.name, "key": list_key})
                event, _skipped = walk.next()
                if key == list_key and event == "start_array":
                    yield from walk.elements()
                    return  # the rest of the file was read by the first pass
                walk.skip(event)

    def whole(self) -> Raw:
        """The top-level value, built within one entry's limits (``Raw.error`` says which it broke)."""
        with self.opener() as raw:
            walk = self._walk(raw)
            walk.index = 0
            event, value = walk.next()
            built, error, title = walk.build(event, value)
            walk.end()
        return Raw(index=0, value=built, error=error, title=title)
