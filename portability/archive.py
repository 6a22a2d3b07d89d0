"""Writing a user export: one zip with everything the user owns.

Layout (format ``chat-server.user-export``, version 1)::

    manifest.json          {"format", "version", "exported_at", "user": {"id", "email"}, "counts": {...}}
    profile.json           {"id", "email", "display_name", "date_joined", "last_login"}
    settings.json          {"theme", "language", "time_zone", "custom_instructions", "email_notifications", ...,
                            "plan", "plan_renews_at", ...}
    conversations.json     a chat-server.conversations bundle (documents.py), each conversation's whole tree
    collector/items.json   [{"id", "kind", "title", "url", "content", "tags", "file": {"path", "name", "size",
                              "content_type"} | null, "created_at", "updated_at"}]
    collector/files/<item id>/<file name>   each file item's bytes
    files/files.json       [{"id", "name", "content_type", "size", "sha256", "status", "error", "pages",
                              "created_at", "path", "collector_item_ids", "message_ids"}]: every uploaded
                              file; ``path`` is where its bytes are (a collector item's under collector/files/)
    files/<file id>/<file name>   the bytes of each file no collector item holds
    todos.json             [{"id", "title", "description", "todo_date", "complete", "completed_at", ...}]
    shares.json            [{"id", "url", "title", "source_conversation_id", "messages", ...}]
    README.txt             this layout, for people

``POST /imports`` and ``manage.py import_user`` read it back (files, items with their files,
conversations with their messages' attachments and sources, todos).
"""

import io
import json
import logging
import shutil
import zipfile
from collections.abc import Callable
from datetime import datetime
from typing import IO

from django.core.exceptions import SuspiciousFileOperation
from django.urls import reverse
from django.utils.text import get_valid_filename

from accounts.models import User
from accounts.services import user_settings_get

from . import documents, selectors
from .data import iso

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

README = """This zip holds everything your chat-server account owned when it was exported.

manifest.json         what this is (format chat-server.user-export, version 1) and how many of each
profile.json          your profile
settings.json         your settings (your custom instructions among them) and plan
conversations.json    your conversations, every version of each turn (format chat-server.conversations)
collector/items.json  your collector notes, links and files; each file's bytes are in collector/files/
files/files.json      every file you uploaded (chat attachments and collector files), with where its bytes are
todos.json            your todos
shares.json           the links you shared, with the snapshot each one shows

Times are ISO 8601 in UTC. Import it into an account with POST /api/v1/imports (the zip as it is)
or `manage.py import_user FILE`: your files, collector items with their files, conversations (with
each message's attached files and each reply's sources) and todos come back.
"""


def _dump(archive: zipfile.ZipFile, name: str, value) -> None:
    archive.writestr(name, json.dumps(value, ensure_ascii=False, indent=2))


def _profile(user: User) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "display_name": user.display_name,
        "date_joined": iso(user.date_joined),
        "last_login": iso(user.last_login),
    }


def _settings(user: User) -> dict:
    row = user_settings_get(user=user)
    return {
        "theme": row.theme,
        "language": row.language,
        "time_zone": row.time_zone,
        "custom_instructions": row.custom_instructions,
        "email_notifications": row.email_notifications,
        "push_notifications": row.push_notifications,
        "product_updates": row.product_updates,
        "plan": row.plan.slug if row.plan_id else None,
        "plan_renews_at": iso(row.plan_renews_at),
        "auto_renew": row.auto_renew,
    }


def _conversations(archive: zipfile.ZipFile, user: User, *, exported_at: datetime, progress: Progress | None) -> dict:
    """Streamed into the zip one conversation at a time: memory does not grow with the account."""
    conversations = selectors.conversations_for_archive(user=user)
    total = conversations.count()
    counts = {"conversations": 0, "messages": 0}
    header = documents.bundle_document([], exported_at=exported_at)
    with archive.open("conversations.json", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8") as out:
        head = json.dumps(header, ensure_ascii=False, indent=2)
        opening, _, closing = head.rpartition('"conversations": []')
        out.write(opening + '"conversations": [')
        for conversation in conversations.iterator(chunk_size=100):
            messages = list(conversation.messages.all())
            document = documents.conversation_document(conversation, messages, exported_at=exported_at)
            out.write(("," if counts["conversations"] else "") + "\n")
            out.write(json.dumps(document, ensure_ascii=False))
            counts["conversations"] += 1
            counts["messages"] += len(messages)
            if progress:
                progress(counts["conversations"], total)
        out.write("\n]" + closing)
    return counts


def _file_path(item) -> str:
    try:
        name = get_valid_filename(item.file_name or "file")
    except SuspiciousFileOperation:  # a name nothing is left of
        name = "file"
    return f"collector/files/{item.pk}/{name}"


def _copy_blob(archive: zipfile.ZipFile, blob, path: str) -> None:
    with blob.open("rb") as source, archive.open(path, "w") as target:
        shutil.copyfileobj(source, target, 1024 * 1024)


def _items(archive: zipfile.ZipFile, user: User, file_paths: dict) -> dict:
    entries = []
    counts = {"collector_items": 0, "collector_files": 0, "missing_files": 0}
    for item in selectors.items_for_archive(user=user).iterator(chunk_size=200):
        path = None
        # A file item's bytes: in the files store, or (items from before it) the item's own file.
        blob = item.stored_file.blob if item.stored_file_id else item.file
        if blob:
            path = _file_path(item)
            try:
                with blob.open("rb") as source, archive.open(path, "w") as target:
                    shutil.copyfileobj(source, target, 1024 * 1024)
                counts["collector_files"] += 1
                if item.stored_file_id:
                    file_paths[item.stored_file_id] = path
            except FileNotFoundError:
                logger.warning("export of %s: the file of collector item %s is missing", user.pk, item.pk)
                counts["missing_files"] += 1
                path = None
        entries.append(documents.item_entry(item, file_path=path))
        counts["collector_items"] += 1
    _dump(archive, "collector/items.json", entries)
    return counts


def _files(archive: zipfile.ZipFile, user: User, file_paths: dict) -> dict:
    """Every stored file's metadata; the bytes of those no collector item already put in the zip."""
    entries = []
    counts = {"files": 0, "missing_files": 0}
    for stored in selectors.files_for_archive(user=user).iterator(chunk_size=200):
        path = file_paths.get(stored.pk)
        if path is None:
            try:
                name = get_valid_filename(stored.name) or "file"
            except SuspiciousFileOperation:
                name = "file"
            path = f"files/{stored.pk}/{name}"
            try:
                _copy_blob(archive, stored.blob, path)
            except FileNotFoundError:
                logger.warning("export of %s: the stored file %s is missing", user.pk, stored.pk)
                counts["missing_files"] += 1
                path = None
        entries.append(documents.file_entry(stored, path=path))
        counts["files"] += 1
    _dump(archive, "files/files.json", entries)
    return counts


def _share_entry(share) -> dict:
    return {
        "id": share.pk,
        "url": reverse("share-page", kwargs={"share_id": share.pk}),
        "title": share.title,
        "source_conversation_id": str(share.source_conversation_id) if share.source_conversation_id else None,
        "model": share.model_slug or None,
        "created_at": iso(share.created_at),
        "expires_at": iso(share.expires_at),
        "revoked_at": iso(share.revoked_at),
        "view_count": share.view_count,
        "messages": share.messages,
    }


def write_user_archive(
    *, user: User, fileobj: IO[bytes], exported_at: datetime, progress: Progress | None = None
) -> dict:
    """Write the user's export into ``fileobj`` (a zip); returns how many of each part it holds."""
    counts: dict = {}
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README)
        _dump(archive, "profile.json", _profile(user))
        _dump(archive, "settings.json", _settings(user))
        counts.update(_conversations(archive, user, exported_at=exported_at, progress=progress))
        file_paths: dict = {}
        counts.update(_items(archive, user, file_paths))
        files_counts = _files(archive, user, file_paths)
        counts["files"] = files_counts["files"]
        counts["missing_files"] += files_counts["missing_files"]
        todos = [documents.todo_entry(todo) for todo in selectors.todos_for_archive(user=user)]
        _dump(archive, "todos.json", todos)
        counts["todos"] = len(todos)
        shares = [_share_entry(share) for share in selectors.shares_for_archive(user=user)]
        _dump(archive, "shares.json", shares)
        counts["shares"] = len(shares)
        manifest = {
            "format": documents.USER_EXPORT_FORMAT,
            "version": documents.VERSION,
            "exported_at": iso(exported_at),
            "user": {"id": user.pk, "email": user.email},
            "counts": counts,
        }
        _dump(archive, "manifest.json", manifest)
    return counts
