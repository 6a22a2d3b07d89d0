"""Our own export format (version 1), written by the exports and read back by the imports.

A conversation document (``GET /conversations/{id}/export?format=json``)::

    {"format": "chat-server.conversation", "version": 1, "exported_at": "2026-03-01T09:00:00Z",
     "id": "<uuid>", "title": "...", "created_at": "...", "updated_at": "...",
     "model": "<slug>" | null, "system_prompt": "", "pinned": false, "archived": false,
     "tools": ["weather", "web_search"],
     "current_message_id": "<message uuid>" | null,
     "messages": [{"id": "<message uuid>", "parent_id": "<message uuid>" | null,
                   "role": "user" | "assistant" | "system", "content": "...", "created_at": "...",
                   "status": "complete", "model": "<slug>" | null, "finish_reason": "",
                   "attachments": [{"id": "<file uuid>", "name": "...", "content_type": "...", "size": 0}],
                   "sources": [{"n": 1, "kind": "file" | "item" | "web", "id": "..." | null,
                                "url": "https://..." (web only), "title": "...", "snippet": "...",
                                "page": 3 | null}],
                   "tool_calls": [{"id": "call_0_x", "type": "function",
                                   "function": {"name": "weather__forecast", "arguments": "{...}"},
                                   "server": "weather", "name": "forecast", "arguments": {...},
                                   "status": "ok", "result": "..." | null, "truncated": false,
                                   "error": "", "offset": 12, "duration_ms": 34}],
                   "notices": [{"code": "tool_server_unavailable", "message": "..."}]}]}

A conversation is a tree (conversations/tree.py): ``messages`` holds every message of it, every
version of a turn included, in time order, so a parent always comes before its children.
``parent_id`` names a message's parent (null for a first message) and ``current_message_id`` the
leaf of the path its owner was reading. An import rebuilds the same tree; a ``parent_id`` that names
no message before it makes a first message, and a missing or unknown ``current_message_id`` makes
the last message current.

``attachments`` are a user message's files (their bytes are in a user export, files/files.json);
``sources`` what an assistant reply was based on (a web page's with its ``url``); ``tool_calls``
the tools a reply called, as the message keeps them (``Message.tool_calls``: OpenAI's ``type`` and
``function``, and for a call the server ran its ``server``, ``name``, ``arguments`` as an object,
``status``, ``result``, ``truncated``, ``error``, ``offset`` and ``duration_ms``; a result is
written in full whatever the server, an export being its owner's); ``notices`` what its reader was
told about how it was made. These, ``id``, ``parent_id`` and ``current_message_id`` were added to
version 1 without a new version: older readers ignore them, and a document without them is read as
having none. An import keeps of a tool call or a notice only the fields above, each of its type,
its texts cut to their caps (a result to ``TOOL_RESULT_MAX_CHARS``, marked ``truncated``); a call
needs an ``id`` and a function (``function``, else made from ``server`` and ``name``); a call
still ``running`` comes back ``interrupted``. Older documents kept a conversation as a line
whose replaced turns were marked ``"superseded": true``; such a document (no ``id`` and no
``parent_id`` in any message) is read as the tree those marks stood for (``tree.parents_from_line``:
a replaced turn becomes a sibling of the one that replaced it). ``superseded`` is no longer written.

Several at once (the ``conversations.json`` of a user export)::

    {"format": "chat-server.conversations", "version": 1, "exported_at": "...",
     "conversations": [<conversation document>, ...]}

Times are ISO 8601 in UTC. A reader refuses a newer ``version`` than it knows; fields it does not
know are ignored, so later versions may add some.
"""

import json
import re
from dataclasses import replace
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from conversations.models import Conversation, Message, MessageStatus, Role
from conversations.tree import LinearRow, Node, Skeleton, parents_from_line
from sharing import snapshot
from tools.models import CallStatus

from .data import (
    ConversationData,
    EntryError,
    FileData,
    ItemData,
    MessageData,
    TodoData,
    iso,
    parse_time,
    text,
)
from .models import SourceFormat

CONVERSATION_FORMAT = "chat-server.conversation"
CONVERSATIONS_FORMAT = "chat-server.conversations"
USER_EXPORT_FORMAT = "chat-server.user-export"
VERSION = 1

# A reply still being written when it was exported cannot go on being written after an import.
_FINAL_STATUSES = {MessageStatus.COMPLETE, MessageStatus.STOPPED, MessageStatus.ERROR, MessageStatus.INTERRUPTED}


# --- writing ---------------------------------------------------------------------------------


def message_entry(message: Message) -> dict:
    return {
        "id": str(message.pk),
        "parent_id": str(message.parent_id) if message.parent_id else None,
        "role": message.role,
        "content": message.content,
        "created_at": iso(message.created_at),
        "status": message.status,
        "model": message.model.slug if message.model else None,
        "finish_reason": message.finish_reason,
        "attachments": [
            {"id": str(file.pk), "name": file.name, "content_type": file.content_type, "size": file.size}
            for file in message.attachments.all()
        ],
        "sources": list(message.sources or []),
        "tool_calls": list(message.tool_calls or []),
        "notices": list(message.notices or []),
    }


def _current_leaf(conversation: Conversation, messages: list[Message]) -> str | None:
    """The leaf of the path the owner reads (the stored one, else the newest: as the API shows it)."""
    skeleton = Skeleton(Node(str(m.pk), str(m.parent_id) if m.parent_id else None, m.created_at) for m in messages)
    return skeleton.leaf(conversation.current_message_id)


def conversation_document(conversation: Conversation, messages, *, exported_at: datetime) -> dict:
    """``messages``: every message of the conversation, oldest first (their ``model`` and
    attachments loaded)."""
    messages = list(messages)
    return {
        "format": CONVERSATION_FORMAT,
        "version": VERSION,
        "exported_at": iso(exported_at),
        "id": str(conversation.pk),
        "title": conversation.title,
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
        "model": conversation.model.slug if conversation.model else None,
        "system_prompt": conversation.system_prompt,
        "pinned": conversation.pinned,
        "archived": conversation.archived,
        "tools": list(conversation.tools or []),
        "current_message_id": _current_leaf(conversation, messages),
        "messages": [message_entry(message) for message in messages],
    }


def bundle_document(documents: list[dict], *, exported_at: datetime) -> dict:
    return {
        "format": CONVERSATIONS_FORMAT,
        "version": VERSION,
        "exported_at": iso(exported_at),
        "conversations": documents,
    }


_SPEAKERS = {
    Role.USER: gettext_lazy("You"),
    Role.ASSISTANT: gettext_lazy("Assistant"),
    Role.SYSTEM: gettext_lazy("System"),
}
# How a reply that did not complete is marked (the others keep their status as it is).
_STATUS_NOTES = {
    MessageStatus.STOPPED: gettext_lazy("stopped"),
    MessageStatus.ERROR: gettext_lazy("failed"),
    MessageStatus.INTERRUPTED: gettext_lazy("interrupted"),
}


def _when(moment: datetime | None) -> str:
    """In the reader's time zone (the user's saved one, active for the request; else UTC), named."""
    if not moment:
        return _("unknown time")
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _markdown_text(value) -> str:
    """One line of plain text inside Markdown (a file name, a title): its own line breaks and
    emphasis characters cannot change the transcript's structure."""
    line = " ".join(str(value or "").split())
    return "".join(f"\\{char}" if char in "\\`*_[]<>#|" else char for char in line)


def _markdown_attachments(message: Message) -> list[str]:
    files = list(message.attachments.all())
    if not files:
        return []
    label = _("Attached:")  # outside the f-string: makemessages does not look inside one
    return [f"*{label}* " + ", ".join(_markdown_text(file.name) for file in files), ""]


# A web source's address: http(s), nothing that would end or escape a link (also a Markdown autolink).
_WEB_URL = re.compile(r"https?://[^\s<>\x00-\x1f\x7f]{1,2000}", re.IGNORECASE)


def _markdown_sources(sources) -> list[str]:
    entries = [source for source in sources or [] if isinstance(source, dict)]
    if not entries:
        return []
    label = _("Sources:")
    lines = [f"*{label}*", ""]
    for position, source in enumerate(entries, start=1):
        n = source.get("n") if isinstance(source.get("n"), int) else position
        page = source.get("page")
        where = ""
        if isinstance(page, int) and not isinstance(page, bool):
            where = " (" + _("page %(page)d") % {"page": page} + ")"
        title = _markdown_text(source.get("title")) or _("Source")
        url = source.get("url") if source.get("kind") == "web" else None
        link = f" <{url}>" if isinstance(url, str) and _WEB_URL.fullmatch(url) else ""
        lines.append(f"{n}. {title}{where}{link}")
    return [*lines, ""]


# A tool call's status as the transcript says it.
_CALL_STATUSES = {
    "running": gettext_lazy("running"),
    "ok": gettext_lazy("done"),
    "error": gettext_lazy("failed"),
    "timeout": gettext_lazy("timed out"),
    "stopped": gettext_lazy("stopped"),
    "interrupted": gettext_lazy("interrupted"),
    "refused": gettext_lazy("not run"),
}


def _fenced(body: str, info: str = "") -> list[str]:
    """``body`` as a fenced code block whose fence no run of backticks inside it can close."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", body.rstrip("\n"), fence, ""]


def _call_parts(call: dict) -> tuple[str, str]:
    """A call's name and arguments for people: ``server · tool`` and indented JSON for a call the
    server ran; the function's name and its arguments as the model wrote them for a ``/v1`` one."""
    function = call.get("function") if isinstance(call.get("function"), dict) else {}
    if call.get("status") and isinstance(call.get("name"), str):
        server = call.get("server") if isinstance(call.get("server"), str) else ""
        name = call["name"] if server in ("", call["name"]) else f"{server} · {call['name']}"
    else:
        name = function.get("name") if isinstance(function.get("name"), str) else ""
    arguments = call.get("arguments")
    if isinstance(arguments, dict):
        return name, json.dumps(arguments, ensure_ascii=False, indent=2, sort_keys=True)
    raw = function.get("arguments")
    return name, raw if isinstance(raw, str) else ""


def _markdown_tool_calls(calls) -> list[str]:
    entries = [call for call in calls or [] if isinstance(call, dict)]
    if not entries:
        return []
    lines = []
    for position, call in enumerate(entries, start=1):
        name, arguments = _call_parts(call)
        status = call.get("status")
        heading = _("Tool call %(position)d: %(name)s") % {
            "position": position,
            "name": _markdown_text(name) or _("(unnamed)"),
        }
        if status:
            heading += f" ({_CALL_STATUSES.get(status, _markdown_text(status))})"
        lines += [f"**{heading}**", ""]
        if arguments:
            lines += [_("Arguments:"), "", *_fenced(arguments, "json")]
        error = call.get("error")
        if isinstance(error, str) and error:
            lines += [_("Error:"), "", *_fenced(error, "text")]
        result = call.get("result")
        if isinstance(result, str) and result:
            label = _("Result (cut at its size limit):") if call.get("truncated") is True else _("Result:")
            lines += [label, "", *_fenced(result, "text")]
        elif result is None and call.get("result_hidden") is True:
            lines += ["*" + _("The result was not shared (a private tool server).") + "*", ""]
    return lines


def _markdown_notices(notices) -> list[str]:
    texts = [
        _markdown_text(notice.get("message") or notice.get("code"))
        for notice in notices or []
        if isinstance(notice, dict)
    ]
    label = _("Note:")
    return [*(f"*{label}* {text}" for text in texts if text), ""] if any(texts) else []


def conversation_markdown(conversation: Conversation, messages, *, exported_at: datetime) -> str:
    """A Markdown transcript for people of ``messages``, the active path (the versions it does not
    go through are left out: the JSON carries the whole tree and is what the imports read back)."""
    title = conversation.title or _("Untitled conversation")
    lines = [f"# {title}", ""]
    about = [
        _("Created %(when)s") % {"when": _when(conversation.created_at)},
        _("last active %(when)s") % {"when": _when(conversation.updated_at)},
    ]
    if conversation.model:
        about.append(_("model %(model)s") % {"model": conversation.model.display_name})
    about_text = _("%(about)s; exported %(when)s.") % {"about": ", ".join(about), "when": _when(exported_at)}
    lines += [f"*{about_text}*", ""]
    if conversation.system_prompt:
        label = _("System prompt:")
        lines += [f"**{label}**", ""]
        lines += [f"> {line}" if line else ">" for line in conversation.system_prompt.splitlines()]
        lines.append("")
    for message in messages:
        speaker = _SPEAKERS.get(message.role, message.role)
        note = (
            ""
            if message.status in (MessageStatus.COMPLETE,)
            else f" ({_STATUS_NOTES.get(message.status, message.status)})"
        )
        lines += ["---", "", f"### {speaker} · {_when(message.created_at)}{note}", ""]
        # The tools a reply called, before what it wrote from their results.
        lines += _markdown_tool_calls(message.tool_calls)
        lines += [message.content.rstrip(), ""]
        lines += _markdown_attachments(message)
        lines += _markdown_sources(message.sources)
        lines += _markdown_notices(message.notices)
    return "\n".join(lines).rstrip() + "\n"


# --- reading ---------------------------------------------------------------------------------


def document_format(raw) -> str | None:
    if isinstance(raw, dict) and isinstance(raw.get("format"), str):
        return raw["format"]
    return None


def check_version(raw: dict) -> None:
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise EntryError(_("'version' must be a whole number from 1 (got %(version)s)") % {"version": repr(version)})
    if version > VERSION:
        raise EntryError(
            _("version %(version)s of %(format)s is newer than this server reads (%(supported)s)")
            % {"version": version, "format": raw.get("format"), "supported": VERSION}
        )


def _bool(raw: dict, name: str) -> bool:
    value = raw.get(name, False)
    if not isinstance(value, bool):
        raise EntryError(_("'%(name)s' must be true or false") % {"name": name})
    return value


def _ref(value) -> str | None:
    """A message's ``id`` or ``parent_id`` as a name among the document's messages (None: none)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value[:64] if isinstance(value, str) and value else None


def _message_from(raw, index: int) -> MessageData:
    if not isinstance(raw, dict):
        raise EntryError(_("message %(index)d is not an object") % {"index": index})
    role = raw.get("role")
    if role not in Role.values:
        raise EntryError(
            _("message %(index)d has an unknown role %(role)s") % {"index": index, "role": repr(str(role)[:20])}
        )
    status = raw.get("status") or MessageStatus.COMPLETE
    if status not in _FINAL_STATUSES:
        status = MessageStatus.INTERRUPTED if status in MessageStatus.values else MessageStatus.COMPLETE
    return MessageData(
        role=role,
        content=text(raw.get("content"), what=f"message {index}'s content"),
        created_at=parse_time(raw.get("created_at"), what=f"message {index}'s created_at"),
        model_slug=text(raw.get("model"), what=f"message {index}'s model")[:64],
        status=status,
        finish_reason=text(raw.get("finish_reason"), what=f"message {index}'s finish_reason")[:20],
        attachments=_attachments_from(raw.get("attachments"), index),
        sources=_sources_from(raw.get("sources"), index),
        tool_calls=_tool_calls_from(raw.get("tool_calls"), index),
        notices=_notices_from(raw.get("notices"), index),
        # A message without an id is named by its place (no exported id starts with "#").
        ref=_ref(raw.get("id")) or f"#{index}",
        parent_ref=_ref(raw.get("parent_id")),
    )


def _is_tree(messages: list) -> bool:
    """Written since conversations are trees: its messages name themselves and their parents."""
    return any(isinstance(m, dict) and ("id" in m or "parent_id" in m) for m in messages)


def _tree_of_line(messages: list, read: list[MessageData]) -> tuple[list[MessageData], str | None]:
    """An older document's line, its replaced turns marked ``superseded``, as the tree it stood for."""
    rows = [
        LinearRow(id=message.ref, role=message.role, superseded=_bool(raw, "superseded"))
        for raw, message in zip(messages, read, strict=True)
    ]
    parents, _depths, current = parents_from_line(rows)
    return [replace(message, parent_ref=parents[message.ref]) for message in read], current


MAX_ATTACHMENTS = 50  # more than a message may take (10): an export from a later rule still fits
MAX_SOURCES = 100
_SOURCE_TEXT_CHARS = {"title": 500, "snippet": 2000}


def _attachments_from(raw, index: int) -> tuple[str, ...]:
    """The ids of the files a message held in the account it was exported from."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise EntryError(_("message %(index)d's attachments must be a list") % {"index": index})
    ids = []
    for attachment in raw[:MAX_ATTACHMENTS]:
        file_id = attachment.get("id") if isinstance(attachment, dict) else attachment
        if not isinstance(file_id, str):
            raise EntryError(_("message %(index)d has an attachment without an id") % {"index": index})
        ids.append(file_id[:64])
    return tuple(ids)


def _sources_from(raw, index: int) -> tuple[dict, ...]:
    """A reply's sources as text: each kept field of its type; anything else in them is dropped."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise EntryError(_("message %(index)d's sources must be a list") % {"index": index})
    sources = []
    for position, source in enumerate(raw[:MAX_SOURCES], start=1):
        if not isinstance(source, dict):
            raise EntryError(
                _("message %(index)d's source %(position)d is not an object") % {"index": index, "position": position}
            )
        n, page, source_id = source.get("n"), source.get("page"), source.get("id")
        entry = {
            "n": n if isinstance(n, int) and not isinstance(n, bool) else position,
            "kind": source.get("kind") if source.get("kind") in ("file", "item", "web") else "file",
            "id": str(source_id)[:64] if isinstance(source_id, str | int) and not isinstance(source_id, bool) else None,
        }
        for name, limit in _SOURCE_TEXT_CHARS.items():
            entry[name] = text(source.get(name), what=f"message {index}'s source {position} {name}")[:limit]
        entry["page"] = page if isinstance(page, int) and not isinstance(page, bool) else None
        if entry["kind"] == "web":
            url = text(source.get("url"), what=f"message {index}'s source {position} url")
            entry["url"] = url if _WEB_URL.fullmatch(url) else ""
        sources.append(entry)
    return tuple(sources)


MAX_TOOL_CALLS = 200  # more than a reply makes (rounds x calls a round): a later rule still fits
MAX_NOTICES = 20
TOOL_RESULT_MAX_CHARS = 100_000  # far above what a server keeps (TOOLS["RESULT_MAX_CHARS"])
TOOL_ARGUMENTS_MAX_CHARS = 100_000  # as JSON
_CALL_TEXT_CHARS = {"id": 100, "server": 100, "name": 200, "error": 2000}
_FUNCTION_NAME_CHARS = 200
_CALL_FLAGS = ("truncated", "private", "result_hidden")
_CALL_COUNTS = ("offset", "duration_ms")
_NOTICE_TEXT_CHARS = {"code": 64, "message": 1000}


def _without_nul(value):
    """A JSON value with NUL characters dropped from its strings and keys (PostgreSQL keeps none)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {str(key).replace("\x00", ""): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


def _call_field_error(message: str, index: int, position: int, name: str) -> EntryError:
    return EntryError(message % {"index": index, "position": position, "field": name})


def _tool_call_from(call, index: int, position: int) -> dict:
    """One tool call as ``Message.tool_calls`` keeps it: the known fields present, each of its type
    and within its cap; any other key dropped."""
    if not isinstance(call, dict):
        raise EntryError(
            _("message %(index)d's tool call %(position)d is not an object") % {"index": index, "position": position}
        )
    what = f"message {index}'s tool call {position}"
    entry: dict = {}
    for name, limit in _CALL_TEXT_CHARS.items():
        if name in call:
            entry[name] = text(call[name], what=f"{what} {name}")[:limit]
    if "function" in call:
        function = call["function"]
        if not isinstance(function, dict):
            raise _call_field_error(
                _("message %(index)d's tool call %(position)d: '%(field)s' must be an object"),
                index,
                position,
                "function",
            )
        arguments = text(function.get("arguments"), what=f"{what} function arguments")
        if len(arguments) > TOOL_ARGUMENTS_MAX_CHARS:
            raise _call_field_error(
                _("message %(index)d's tool call %(position)d: '%(field)s' is too long"), index, position, "function"
            )
        entry["function"] = {
            "name": text(function.get("name"), what=f"{what} function name")[:_FUNCTION_NAME_CHARS],
            "arguments": arguments,
        }
    if "arguments" in call:
        arguments = call["arguments"] if call["arguments"] is not None else {}
        if not isinstance(arguments, dict):
            raise _call_field_error(
                _("message %(index)d's tool call %(position)d: '%(field)s' must be an object"),
                index,
                position,
                "arguments",
            )
        arguments = _without_nul(arguments)
        if len(json.dumps(arguments, ensure_ascii=False)) > TOOL_ARGUMENTS_MAX_CHARS:
            raise _call_field_error(
                _("message %(index)d's tool call %(position)d: '%(field)s' is too long"), index, position, "arguments"
            )
        entry["arguments"] = arguments
    if call.get("status") is not None:
        status = call["status"]
        if status not in CallStatus.values:
            raise EntryError(
                _("message %(index)d's tool call %(position)d has an unknown status %(status)s")
                % {"index": index, "position": position, "status": repr(str(status)[:20])}
            )
        # A call still running when it was exported cannot go on running after an import.
        entry["status"] = CallStatus.INTERRUPTED if status == CallStatus.RUNNING else status
    for name in _CALL_FLAGS:
        if name in call:
            if not isinstance(call[name], bool):
                raise _call_field_error(
                    _("message %(index)d's tool call %(position)d: '%(field)s' must be true or false"),
                    index,
                    position,
                    name,
                )
            entry[name] = call[name]
    for name in _CALL_COUNTS:
        if name in call:
            value = call[name]
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise _call_field_error(
                    _("message %(index)d's tool call %(position)d: '%(field)s' must be null or a whole number from 0"),
                    index,
                    position,
                    name,
                )
            entry[name] = value
    if "result" in call:
        result = call["result"]
        if result is not None:
            result = text(result, what=f"{what} result")
            if len(result) > TOOL_RESULT_MAX_CHARS:
                result = result[:TOOL_RESULT_MAX_CHARS]
                entry["truncated"] = True
        entry["result"] = result
    # What every reader of a message's calls relies on (the API's, a later turn's history): an id
    # and OpenAI's form of the call, made from the tool's name when the entry has only that.
    if not entry.get("id"):
        raise EntryError(
            _("message %(index)d's tool call %(position)d has no 'id'") % {"index": index, "position": position}
        )
    if "function" not in entry:
        if not entry.get("name"):
            raise EntryError(
                _("message %(index)d's tool call %(position)d names no function")
                % {"index": index, "position": position}
            )
        entry["function"] = snapshot.openai_function(entry)
    entry["type"] = "function"
    return entry


def _tool_calls_from(raw, index: int) -> tuple[dict, ...]:
    """A reply's tool calls (at most ``MAX_TOOL_CALLS``), each read by ``_tool_call_from``."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise EntryError(_("message %(index)d's tool calls must be a list") % {"index": index})
    return tuple(_tool_call_from(call, index, position) for position, call in enumerate(raw[:MAX_TOOL_CALLS], 1))


def _notices_from(raw, index: int) -> tuple[dict, ...]:
    """A reply's notices: ``{code, message}`` each, as text."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise EntryError(_("message %(index)d's notices must be a list") % {"index": index})
    notices = []
    for position, notice in enumerate(raw[:MAX_NOTICES], start=1):
        if not isinstance(notice, dict):
            raise EntryError(
                _("message %(index)d's notice %(position)d is not an object") % {"index": index, "position": position}
            )
        notices.append(
            {
                name: text(notice.get(name), what=f"message {index}'s notice {position} {name}")[:limit]
                for name, limit in _NOTICE_TEXT_CHARS.items()
            }
        )
    return tuple(notices)


def conversation_from_document(raw) -> ConversationData:
    if not isinstance(raw, dict) or document_format(raw) != CONVERSATION_FORMAT:
        raise EntryError(_("not a %(format)s document") % {"format": CONVERSATION_FORMAT})
    check_version(raw)
    messages = raw.get("messages", [])
    if not isinstance(messages, list):
        raise EntryError(_("'messages' must be a list"))
    read = [_message_from(message, index) for index, message in enumerate(messages)]
    if _is_tree(messages):
        current = _ref(raw.get("current_message_id"))
    else:
        read, current = _tree_of_line(messages, read)
    return ConversationData(
        source=SourceFormat.CHAT_SERVER,
        source_key=text(raw.get("id"), what="id")[:200],
        title=text(raw.get("title"), what="title"),
        created_at=parse_time(raw.get("created_at"), what="created_at"),
        updated_at=parse_time(raw.get("updated_at"), what="updated_at"),
        messages=tuple(read),
        current_ref=current,
        system_prompt=text(raw.get("system_prompt"), what="system_prompt"),
        model_slug=text(raw.get("model"), what="model")[:64],
        pinned=_bool(raw, "pinned"),
        archived=_bool(raw, "archived"),
        tools=_tool_names(raw.get("tools")),
        keep_empty=True,
    )


def _tool_names(raw) -> tuple[str, ...]:
    """A conversation's enabled tools: names (the import keeps those its new owner may enable)."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(name, str) and len(name) <= 40 for name in raw):
        raise EntryError(_("'tools' must be a list of tool names"))
    return tuple(raw[:50])


# --- a user export's collector items and todos -------------------------------------------------


def item_entry(item, *, file_path: str | None) -> dict:
    return {
        "id": item.pk,
        "kind": item.kind,
        "title": item.title,
        "url": item.url,
        "content": item.content,
        "tags": [tag.name for tag in item.tags.all()],
        "file": (
            {
                "path": file_path,
                "name": item.file_name,
                "size": item.stored_file.size if item.stored_file_id else item.file_size,
                "content_type": item.content_type,
            }
            if file_path
            else None
        ),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }


def file_entry(stored, *, path: str | None) -> dict:
    """A stored file in a user export (files/files.json); ``path``: its bytes in the zip."""
    return {
        "id": str(stored.pk),
        "name": stored.name,
        "content_type": stored.content_type,
        "size": stored.size,
        "sha256": stored.sha256,
        "status": stored.status,
        "error": stored.error or None,
        "pages": stored.pages,
        "created_at": iso(stored.created_at),
        "path": path,
        "collector_item_ids": [item.pk for item in stored.collector_items.all()],
        "message_ids": [str(message.pk) for message in stored.messages.all()],
    }


def file_from_entry(raw) -> FileData:
    if not isinstance(raw, dict):
        raise EntryError(_("a file is not an object"))
    file_id = raw.get("id")
    if not isinstance(file_id, str) or not file_id:
        raise EntryError(_("a file has no 'id'"))
    path = raw.get("path")
    if path is not None and not isinstance(path, str):
        raise EntryError(_("'path' must be null or a string"))
    item_ids = raw.get("collector_item_ids") or []
    if not isinstance(item_ids, list):
        raise EntryError(_("'collector_item_ids' must be a list"))
    created_at = parse_time(raw.get("created_at"), what="created_at")
    return FileData(
        source_key=_source_key(raw, created_at),
        original_id=file_id[:64],
        name=text(raw.get("name"), what="name"),
        path=path or "",
        collector_item_ids=tuple(i for i in item_ids if isinstance(i, int) and not isinstance(i, bool)),
        created_at=created_at,
    )


def todo_entry(todo) -> dict:
    return {
        "id": todo.pk,
        "title": todo.title,
        "description": todo.description,
        "todo_date": iso(todo.todo_date),
        "complete": todo.complete,
        "completed_at": iso(todo.completed_at),
        "created_at": iso(todo.created_at),
        "updated_at": iso(todo.updated_at),
    }


def _original_id(raw: dict) -> int | None:
    value = raw.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _source_key(raw: dict, created_at: datetime | None) -> str:
    # Ids are per server: with the creation time they name one row of one server.
    return f"{raw.get('id')}@{iso(created_at)}"[:200]


def item_from_entry(raw) -> ItemData:
    if not isinstance(raw, dict):
        raise EntryError(_("an item is not an object"))
    tags = raw.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise EntryError(_("'tags' must be a list of strings"))
    file = raw.get("file")
    if file is not None and not (isinstance(file, dict) and isinstance(file.get("path"), str)):
        raise EntryError(_("'file' must be null or an object with a 'path'"))
    created_at = parse_time(raw.get("created_at"), what="created_at")
    return ItemData(
        source_key=_source_key(raw, created_at),
        original_id=_original_id(raw),
        kind=text(raw.get("kind"), what="kind"),
        title=text(raw.get("title"), what="title"),
        url=text(raw.get("url"), what="url"),
        content=text(raw.get("content"), what="content"),
        tags=tuple(tags),
        file_path=file["path"] if file else "",
        file_name=text(file.get("name"), what="file name") if file else "",
        created_at=created_at,
        updated_at=parse_time(raw.get("updated_at"), what="updated_at"),
    )


def todo_from_entry(raw) -> TodoData:
    if not isinstance(raw, dict):
        raise EntryError(_("a todo is not an object"))
    created_at = parse_time(raw.get("created_at"), what="created_at")
    return TodoData(
        source_key=_source_key(raw, created_at),
        original_id=_original_id(raw),
        title=text(raw.get("title"), what="title"),
        description=text(raw.get("description"), what="description"),
        todo_date=parse_time(raw.get("todo_date"), what="todo_date"),
        complete=_bool(raw, "complete"),
        completed_at=parse_time(raw.get("completed_at"), what="completed_at"),
        created_at=created_at,
        updated_at=parse_time(raw.get("updated_at"), what="updated_at"),
    )
