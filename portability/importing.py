"""The import itself: every entry of a source becomes rows of the user's, one entry at a time in a
transaction of its own, so a broken entry is recorded and the others still come in. The Import
row's counts are saved as it goes (at most about once a second), which is the progress clients see.
"""

import logging
import posixpath
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import UserSettings
from accounts.storage import storage_check
from collector import services as collector_services
from collector.models import Item
from collector.uploads import max_upload_bytes
from conversations.model_choice import model_for_or_none
from conversations.models import Conversation, LLMModel, Role
from conversations.services import PastMessage, conversation_create_from_history
from conversations.titles import AUTOTITLE_MAX_CHARS
from core.exceptions import DomainError
from core.titles import title_from_text
from files import services as file_services
from files.models import StoredFile
from files.services import max_upload_bytes as max_file_bytes
from todos import services as todo_services
from todos.models import Todo

from . import conf, documents, sources
from .data import ConversationData, Entry, EntryError, FileData, FileError, ItemData, TodoData
from .jsonstream import ImportTimedOut
from .models import Import, ImportRecord, JobStatus, RecordKind, SourceFormat

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (entries done, entries in all)

MAX_RECORDED_ERRORS = 500
SAVE_EVERY_SECONDS = 1.0
_COUNT_FIELDS = (
    "conversations_total",
    "conversations_imported",
    "conversations_skipped",
    "conversations_failed",
    "messages_imported",
    "items_imported",
    "items_skipped",
    "todos_imported",
    "todos_skipped",
    "files_imported",
    "files_skipped",
    "errors",
)


@dataclass(frozen=True)
class Outcome:
    target_id: str | None  # the row made, or (skipped) the one already there when known
    messages: int = 0
    skipped: bool = False


SKIPPED = Outcome(target_id=None, skipped=True)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    if isinstance(exc, DomainError):
        return exc.detail
    return str(exc)


# --- what was imported before -------------------------------------------------------------------


def _recorded(*, owner, kind: str, source: str, key: str, model) -> str | None:
    """The row this source entry became when it was imported into the account before, if it is
    still there (its id), else None."""
    if not key:
        return None
    record = ImportRecord.objects.filter(owner=owner, kind=kind, source=source, source_key=key).first()
    if record is not None and model.objects.filter(pk=record.target_id, owner=owner).exists():
        return record.target_id
    return None


def _record(*, owner, kind: str, source: str, key: str, target_id) -> None:
    if key:
        ImportRecord.objects.update_or_create(
            owner=owner, kind=kind, source=source, source_key=key, defaults={"target_id": str(target_id)}
        )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError):
        return False
    return True


# --- conversations -------------------------------------------------------------------------------


class _Models:
    """Models named by slug, looked up once per import (at most ``MAX_CACHED`` slugs remembered:
    a file may name millions of different ones)."""

    MAX_CACHED = 256

    def __init__(self, owner):
        self.owner = owner
        self._by_slug: dict[str, LLMModel | None] = {}
        self._for_conversation: dict[str, LLMModel | None] = {}

    def _remember(self, cache: dict, slug: str, value):
        if len(cache) >= self.MAX_CACHED:
            cache.clear()
        cache[slug] = value
        return value

    def by_slug(self, slug: str) -> LLMModel | None:
        if not slug:
            return None
        if slug not in self._by_slug:
            return self._remember(self._by_slug, slug, LLMModel.objects.filter(slug=slug).first())
        return self._by_slug[slug]

    def for_conversation(self, slug: str) -> LLMModel | None:
        """The named model while the user's plan has it, else their default; none if none named."""
        if not slug:
            return None
        if slug not in self._for_conversation:
            chosen = model_for_or_none(user=self.owner, preferred=self.by_slug(slug))
            return self._remember(self._for_conversation, slug, chosen)
        return self._for_conversation[slug]


class Restored:
    """What the entries imported so far became in the new account, by their ids in the old one:
    a message's attachments and a reply's sources point at these."""

    def __init__(self):
        self.files: dict[str, str] = {}  # old file id -> new file id
        self.items: dict[str, str] = {}  # old item id -> new item id
        self.files_of_items: dict[str, str] = {}  # old item id -> old id of the file it holds

    def attachments(self, old_ids) -> tuple[str, ...]:
        """The new files of ``old_ids`` (those not restored are left out: their entry's error says why)."""
        return tuple(self.files[old] for old in old_ids if old in self.files)

    def sources(self, sources) -> list[dict]:
        """A reply's sources as text; each ``id`` the new file's or item's, or null when there is none
        (a web page's stays as it was: it names no row)."""
        table = {"file": self.files, "item": self.items}
        return [
            source if source["kind"] not in table else {**source, "id": table[source["kind"]].get(source["id"] or "")}
            for source in sources
        ]


def conversation_import(*, owner, data: ConversationData, models: _Models, restored: Restored | None = None) -> Outcome:
    """One conversation into ``owner``'s account (call inside a transaction)."""
    restored = restored or Restored()
    if _recorded(
        owner=owner, kind=RecordKind.CONVERSATION, source=data.source, key=data.source_key, model=Conversation
    ):
        return SKIPPED
    if (
        data.source == SourceFormat.CHAT_SERVER
        and _is_uuid(data.source_key)
        and Conversation.objects.filter(pk=data.source_key, owner=owner).exists()
    ):
        return SKIPPED  # the very conversation this document was exported from
    if not data.messages and not data.keep_empty:
        return SKIPPED

    title = data.title
    if not title.strip() and data.source == SourceFormat.CHATGPT:
        first_question = next((m.content for m in data.messages if m.role == Role.USER), "")
        title = title_from_text(first_question, max_length=AUTOTITLE_MAX_CHARS)
    conversation = conversation_create_from_history(
        owner=owner,
        title=title,
        messages=(
            PastMessage(
                role=message.role,
                content=message.content,
                created_at=message.created_at,
                model=models.by_slug(message.model_slug),
                status=message.status,
                finish_reason=message.finish_reason,
                sources=restored.sources(message.sources),
                tool_calls=list(message.tool_calls),
                notices=list(message.notices),
                attachments=restored.attachments(message.attachments) if message.role == Role.USER else (),
                ref=message.ref,
                parent_ref=message.parent_ref,
            )
            for message in data.messages
        ),
        tree=True,
        current_ref=data.current_ref,
        count=len(data.messages),
        model=models.for_conversation(data.model_slug),
        system_prompt=data.system_prompt,
        pinned=data.pinned,
        archived=data.archived,
        tools=data.tools,
        created_at=data.created_at,
        updated_at=data.updated_at,
    )
    _record(
        owner=owner, kind=RecordKind.CONVERSATION, source=data.source, key=data.source_key, target_id=conversation.pk
    )
    return Outcome(target_id=str(conversation.pk), messages=len(data.messages))


# --- collector items and todos (a user export) --------------------------------------------------


def _kept_times(model, pk, *, created_at: datetime | None, updated_at: datetime | None, **extra) -> None:
    changes = {name: value for name, value in (("created_at", created_at), ("updated_at", updated_at)) if value}
    changes.update(extra)
    if changes:
        model.objects.filter(pk=pk).update(**changes)


def _is_original(model, *, owner, original_id: int | None, created_at: datetime | None) -> bool:
    """The very row the entry was exported from (same id, owner and creation time)."""
    if original_id is None or created_at is None:
        return False
    return model.objects.filter(pk=original_id, owner=owner, created_at=created_at).exists()


def item_import(*, owner, data: ItemData, source: sources.Source, index: int | None = None) -> Outcome:
    """One collector item into ``owner``'s account (call inside a transaction). Its file is read out
    of the zip only if it fits in the owner's storage as the zip declares it (``storage_check``
    again on the bytes actually read, in ``item_create``), and each file of the zip only once."""
    key_source = SourceFormat.CHAT_SERVER
    if existing := _recorded(owner=owner, kind=RecordKind.ITEM, source=key_source, key=data.source_key, model=Item):
        return Outcome(target_id=existing, skipped=True)
    if _is_original(Item, owner=owner, original_id=data.original_id, created_at=data.created_at):
        return Outcome(target_id=str(data.original_id), skipped=True)
    upload = None
    if data.file_path:
        storage_check(user=owner, size=source.member_size(data.file_path))
        content = source.read_member(data.file_path, limit=max_upload_bytes(), reader=index)
        upload = ContentFile(content, name=data.file_name or posixpath.basename(data.file_path))
    item = collector_services.item_create(
        user=owner,
        kind=data.kind,
        title=data.title,
        content=data.content,
        url=data.url,
        file=upload,
        tags=data.tags,
        limit_processing=False,  # as file_import: the import's files are bounded by the import
    )
    _kept_times(Item, item.pk, created_at=data.created_at, updated_at=data.updated_at)
    _record(owner=owner, kind=RecordKind.ITEM, source=key_source, key=data.source_key, target_id=item.pk)
    return Outcome(target_id=str(item.pk))


def file_import(*, owner, data: FileData, source: sources.Source, index: int | None = None) -> Outcome:
    """One stored file (a chat attachment, an upload) into ``owner``'s account (call inside a
    transaction): its bytes from the zip go through ``file_create`` like any upload (its type read
    from the bytes, the size and storage limits of the owner's plan, extraction queued). A file a
    collector item holds is not read here: the item brings it in (see ``ImportRun._item``)."""
    key_source = SourceFormat.CHAT_SERVER
    if existing := _recorded(
        owner=owner, kind=RecordKind.FILE, source=key_source, key=data.source_key, model=StoredFile
    ):
        return Outcome(target_id=existing, skipped=True)
    if _is_uuid(data.original_id) and StoredFile.objects.filter(pk=data.original_id, owner=owner).exists():
        return Outcome(target_id=data.original_id, skipped=True)  # the very file it was exported from
    if not data.path:
        raise EntryError(_("its bytes are not in the export (the file was missing when it was exported)"))
    # Checked on what the zip declares before reading, and by file_create on what was read.
    storage_check(user=owner, size=source.member_size(data.path))
    content = source.read_member(data.path, limit=max_file_bytes(), reader=index, what="file")
    # Not held to FILES_MAX_PROCESSING_PER_USER: an import brings its files in one job, bounded by
    # its own limits, and a file refused here would be lost from the import.
    stored = file_services.file_create(
        owner=owner,
        upload=ContentFile(content, name=data.name or posixpath.basename(data.path)),
        limit_processing=False,
    )
    if data.created_at:
        StoredFile.objects.filter(pk=stored.pk).update(created_at=data.created_at)
    _record(owner=owner, kind=RecordKind.FILE, source=key_source, key=data.source_key, target_id=stored.pk)
    return Outcome(target_id=str(stored.pk))


def todo_import(*, owner, data: TodoData) -> Outcome:
    key_source = SourceFormat.CHAT_SERVER
    if _recorded(owner=owner, kind=RecordKind.TODO, source=key_source, key=data.source_key, model=Todo):
        return SKIPPED
    if _is_original(Todo, owner=owner, original_id=data.original_id, created_at=data.created_at):
        return SKIPPED
    todo = todo_services.todo_create(
        user=owner,
        title=data.title,
        description=data.description,
        todo_date=data.todo_date,
        complete=data.complete,
    )
    extra = {"completed_at": data.completed_at} if data.complete and data.completed_at else {}
    _kept_times(Todo, todo.pk, created_at=data.created_at, updated_at=data.updated_at, **extra)
    _record(owner=owner, kind=RecordKind.TODO, source=key_source, key=data.source_key, target_id=todo.pk)
    return Outcome(target_id=str(todo.pk))


# --- one run over a source ----------------------------------------------------------------------


class ImportRun:
    """Imports every entry of ``source`` into ``row.owner``'s account, keeping ``row`` up to date.
    The entries are read one at a time as it goes; a file that breaks a rule of the whole file
    while being read, or time running out (``deadline``, a ``time.monotonic()``), ends the import
    failed, keeping what came in before."""

    def __init__(
        self, row: Import, source: sources.Source, progress: Progress | None = None, *, deadline: float | None = None
    ):
        self.row, self.source, self.progress, self.deadline = row, source, progress, deadline
        self.owner = row.owner
        self.models = _Models(row.owner)
        self.restored = Restored()
        self.total = len(source.files) + len(source.items) + len(source.conversations) + len(source.todos)
        self.done = 0
        self._saved_at = 0.0

    def run(self) -> Import:
        row = self.row
        row.source_format = self.source.format
        row.conversations_total = len(self.source.conversations)
        self._save(force=True, extra=("source_format",))
        self._instructions()
        try:
            # Files and items (which bring in the files they hold) first: the conversations'
            # attachments and sources point at them.
            for entry in self.source.files:
                self._one(entry, kind=RecordKind.FILE, action=self._file)
            for entry in self.source.items:
                self._one(entry, kind=RecordKind.ITEM, action=self._item)
            for entry in self.source.conversations:
                self._one(entry, kind=RecordKind.CONVERSATION, action=self._conversation)
            for entry in self.source.todos:
                self._one(entry, kind=RecordKind.TODO, action=self._todo)
        except FileError as exc:
            row.status = JobStatus.FAILED
            row.error = _("%(error)s What was imported before it is kept.") % {"error": exc}
        else:
            row.status = JobStatus.DONE
        row.finished_at = timezone.now()
        self._save(force=True, extra=("status", "error", "finished_at"))
        return row

    def _instructions(self) -> None:
        """A user export's custom instructions, into an account that has none yet: an import never
        replaces what the user wrote here. Past ``CUSTOM_INSTRUCTIONS_MAX_CHARS`` (a server with a
        larger cap made the export) they are left out rather than cut."""
        text = self.source.settings.get("custom_instructions")
        if not isinstance(text, str) or not text.strip():
            return
        if len(text) > settings.CUSTOM_INSTRUCTIONS_MAX_CHARS or "\x00" in text:
            logger.warning("import %s: custom instructions not imported (too long or not text)", self.row.pk)
            return
        UserSettings.objects.filter(user=self.owner, custom_instructions="").update(custom_instructions=text)

    def _one(self, entry: Entry, *, kind: str, action: Callable[[Entry], None]) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ImportTimedOut(
                _(
                    "The import took longer than %(seconds)d seconds (its limit) and was stopped; "
                    "importing the same file again goes on where it stopped."
                )
                % {"seconds": conf.import_max_seconds()}
            )
        try:
            if entry.error:
                raise EntryError(entry.error)
            action(entry)
        except (EntryError, ValidationError, DomainError) as exc:
            self._failed(entry, kind=kind, error=_error_text(exc))
        except Exception as exc:  # one broken entry never stops the import; the log has the details
            logger.exception("import %s: %s %d could not be saved", self.row.pk, kind, entry.index)
            self._failed(entry, kind=kind, error=_("could not be saved (%(error)s)") % {"error": type(exc).__name__})
        self.done += 1
        self._save()
        if self.progress:
            self.progress(self.done, self.total)

    def _failed(self, entry: Entry, *, kind: str, error: str) -> None:
        if kind == RecordKind.CONVERSATION:
            self.row.conversations_failed += 1
        if len(self.row.errors) < MAX_RECORDED_ERRORS:
            self.row.errors.append({"kind": kind, "index": entry.index, "title": entry.title, "error": error[:500]})

    def _file(self, entry: Entry) -> None:
        if isinstance(entry.raw, dict) and isinstance(entry.raw.get("name"), str):
            entry.title = entry.raw["name"][:200]
        data = documents.file_from_entry(entry.raw)
        if data.collector_item_ids:
            # Brought in by the item holding it (its bytes are the item's in the zip).
            for item_id in data.collector_item_ids:
                self.restored.files_of_items[str(item_id)] = data.original_id
            return
        with transaction.atomic():
            outcome = file_import(owner=self.owner, data=data, source=self.source, index=entry.index)
        self.restored.files[data.original_id] = outcome.target_id
        if outcome.skipped:
            self.row.files_skipped += 1
        else:
            self.row.files_imported += 1

    def _conversation(self, entry: Entry) -> None:
        data = sources.parse_conversation(entry.raw)
        with transaction.atomic():
            outcome = conversation_import(owner=self.owner, data=data, models=self.models, restored=self.restored)
        if outcome.skipped:
            self.row.conversations_skipped += 1
        else:
            self.row.conversations_imported += 1
            self.row.messages_imported += outcome.messages

    def _item(self, entry: Entry) -> None:
        data = documents.item_from_entry(entry.raw)
        with transaction.atomic():
            outcome = item_import(owner=self.owner, data=data, source=self.source, index=entry.index)
        if data.original_id is not None and outcome.target_id:
            old_id = str(data.original_id)
            self.restored.items[old_id] = outcome.target_id
            old_file = self.restored.files_of_items.get(old_id)
            new_file = Item.objects.filter(pk=outcome.target_id).values_list("stored_file_id", flat=True).first()
            if old_file and new_file:
                self.restored.files[old_file] = str(new_file)
        if outcome.skipped:
            self.row.items_skipped += 1
        else:
            self.row.items_imported += 1

    def _todo(self, entry: Entry) -> None:
        data = documents.todo_from_entry(entry.raw)
        with transaction.atomic():
            outcome = todo_import(owner=self.owner, data=data)
        if outcome.skipped:
            self.row.todos_skipped += 1
        else:
            self.row.todos_imported += 1

    def _save(self, *, force: bool = False, extra: tuple[str, ...] = ()) -> None:
        now = time.monotonic()
        if not force and now - self._saved_at < SAVE_EVERY_SECONDS:
            return
        self._saved_at = now
        fields = (*_COUNT_FIELDS, *extra)
        values = {name: getattr(self.row, name) for name in fields}
        Import.objects.filter(pk=self.row.pk).update(**values, updated_at=timezone.now())
