"""What an import brings in, whatever file it came from: plain frozen dataclasses the readers
(``chatgpt``, ``documents``) produce and the writer (``services``) saves."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _


class EntryError(ValueError):
    """One entry of a file (a conversation, an item, a todo) cannot be imported: the message says why,
    and the import records it and goes on with the next one."""


class FileError(ValueError):
    """The file as a whole cannot be read (not JSON, not a list, a zip without conversations.json...)."""


@dataclass(frozen=True)
class MessageData:
    role: str  # user | assistant | system
    content: str
    created_at: datetime | None = None
    model_slug: str = ""
    status: str = "complete"
    finish_reason: str = ""
    attachments: tuple[str, ...] = ()  # file ids in the account it was exported from
    sources: tuple[dict, ...] = ()
    tool_calls: tuple[dict, ...] = ()  # a reply's tool calls, as ``Message.tool_calls`` keeps them
    notices: tuple[dict, ...] = ()  # a reply's notices: {code, message}
    # Its place in the conversation's tree: ``ref`` names it among the conversation's messages and
    # ``parent_ref`` its parent (None, or one no message before it names: a first message).
    ref: str = ""
    parent_ref: str | None = None


@dataclass(frozen=True)
class ConversationData:
    source: str  # a SourceFormat value
    source_key: str  # the conversation's id in its source ("" when it has none)
    title: str
    created_at: datetime | None
    updated_at: datetime | None
    messages: tuple[MessageData, ...]  # parents before their children (time order)
    current_ref: str | None = None  # the current leaf (None, or one not there: the last message)
    system_prompt: str = ""
    model_slug: str = ""
    pinned: bool = False
    archived: bool = False
    tools: tuple[str, ...] = ()  # the tools it had enabled (our own documents)
    # Our own documents are imported as they are, even without messages; a ChatGPT conversation
    # with nothing visible in it is skipped.
    keep_empty: bool = False


@dataclass(frozen=True)
class ItemData:
    source_key: str
    original_id: int | None
    kind: str
    title: str
    url: str
    content: str
    tags: tuple[str, ...]
    file_path: str  # inside the archive; "" for notes and links
    file_name: str
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True)
class FileData:
    """A stored file of a user export (files/files.json)."""

    source_key: str
    original_id: str  # its id in the account it was exported from
    name: str
    path: str  # its bytes inside the archive; "" when the export had none
    collector_item_ids: tuple[int, ...]  # the items holding it there (they bring it in themselves)
    created_at: datetime | None


@dataclass(frozen=True)
class TodoData:
    source_key: str
    original_id: int | None
    title: str
    description: str
    todo_date: datetime | None
    complete: bool
    completed_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None


@dataclass
class Entry:
    """One raw entry of a file, parsed only when its turn comes, so a broken one fails alone."""

    index: int
    raw: object
    title: str = ""
    error: str = ""  # why it could not be read (over a limit): then ``raw`` is None
    extra: dict = field(default_factory=dict)


def iso(moment: datetime | None) -> str | None:
    """The API's own time format: UTC, ending in "Z"."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value, *, what: str = "time") -> datetime | None:
    """An ISO 8601 string (a naive one is UTC), a Unix time in seconds, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise EntryError(_("%(field)s is not a time: %(value)s") % {"field": what, "value": repr(value)})
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise EntryError(_("%(field)s is out of range: %(value)s") % {"field": what, "value": repr(value)}) from exc
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise EntryError(
                _("%(field)s is not an ISO 8601 time: %(value)s") % {"field": what, "value": repr(value[:40])}
            )
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise EntryError(_("%(field)s is not a time: %(value)s") % {"field": what, "value": type(value).__name__})


def text(value, *, what: str) -> str:
    """A string field of an entry (None is empty); NUL characters dropped (PostgreSQL cannot keep them)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise EntryError(_("%(field)s must be a string, not %(type)s") % {"field": what, "type": type(value).__name__})
    return value.replace("\x00", "")
