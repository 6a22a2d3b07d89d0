"""Reading one conversation of a ChatGPT data export (``conversations.json``).

A conversation is a tree: ``mapping`` holds every node (``{id, message, parent, children}``), and
``current_node`` names the last node of the branch the user saw (a regenerated reply or an edited
question starts a sibling branch). The whole tree is imported, every version of every turn, with
``current_node`` as the current leaf. Nodes without a message, system and tool messages, messages
hidden from the conversation (``metadata.is_visually_hidden_from_conversation``) and messages with
no text are left out: their children hang from the nearest ancestor kept (and ``current_node``, when
it is left out, is that ancestor). Parents are read from each node's ``parent``.
"""

import heapq
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from .data import ConversationData, EntryError, MessageData, parse_time, text
from .models import SourceFormat

IMPORTED_ROLES = {"user": "user", "assistant": "assistant"}
MAX_DEPTH = 100_000  # a longer chain of parents is a loop or garbage


def looks_like_conversation(raw) -> bool:
    return isinstance(raw, dict) and "mapping" in raw


def _content_text(content) -> str:
    """The text of a message's ``content``: its string parts (``text``, ``multimodal_text``: an
    image part is a dict and is left out), or the ``text`` of a ``code`` block (fenced)."""
    if not isinstance(content, dict):
        return ""
    parts = content.get("parts")
    if isinstance(parts, list):
        return "\n".join(part for part in parts if isinstance(part, str)).strip()
    body = content.get("text")
    if not isinstance(body, str) or not body.strip():
        return ""
    if content.get("content_type") == "code":
        language = content.get("language")
        language = language if isinstance(language, str) and language != "unknown" else ""
        return f"```{language}\n{body.strip()}\n```"
    return body.strip()


def _nodes(mapping: dict) -> dict[str, dict]:
    nodes = {}
    for key, node in mapping.items():
        if not isinstance(node, dict):
            raise EntryError(_("a node of the message tree is not an object"))
        nodes[key] = node
    return nodes


class _Tree:
    """The nodes kept (those holding a message we import) and, for every node, its nearest kept
    ancestor: the kept parent of a kept node whose parents in between were left out."""

    def __init__(self, mapping: dict):
        self.nodes = _nodes(mapping)
        self.kept: dict[str, MessageData] = {}
        for key, node in self.nodes.items():
            message = _message(node)
            if message is not None:
                self.kept[key] = replace(message, ref=key)
        self._kept_at_or_above: dict[str, str | None] = {}

    def kept_at_or_above(self, node_id: str) -> str | None:
        """``node_id`` if it is kept, else its nearest kept ancestor (None: none)."""
        chain: list[str] = []
        seen: set[str] = set()
        found: str | None = None
        current = node_id
        while current is not None:
            if current in self._kept_at_or_above:
                found = self._kept_at_or_above[current]
                break
            if current in seen or len(chain) > MAX_DEPTH:
                raise EntryError(_("the message tree has a loop"))
            seen.add(current)
            node = self.nodes.get(current) if isinstance(current, str) else None
            if node is None:
                raise EntryError(
                    _("the message tree names a missing node %(node)s") % {"node": repr(str(current)[:40])}
                )
            chain.append(current)
            if current in self.kept:
                found = current
                break
            current = node.get("parent")
        for visited in chain:
            # Every node of the chain below the one found has it as its nearest kept one.
            self._kept_at_or_above[visited] = visited if visited in self.kept else found
        return found

    def kept_parent(self, node_id: str) -> str | None:
        parent = self.nodes[node_id].get("parent")
        return None if parent is None else self.kept_at_or_above(parent)


def _messages(tree: _Tree) -> list[MessageData]:
    """Every kept message under its kept parent, in time order with each parent before its children
    (a node without a time right after its parent; equal times in the mapping's order)."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for key in tree.kept:
        children[tree.kept_parent(key)].append(key)
    order = {key: index for index, key in enumerate(tree.kept)}
    earliest = datetime.min.replace(tzinfo=UTC)
    ready: list[tuple] = []

    def offer(key: str, parent_time: datetime) -> None:
        moment = tree.kept[key].created_at or parent_time
        heapq.heappush(ready, (moment, order[key], key))

    for key in children[None]:
        offer(key, earliest)
    messages = []
    while ready:
        moment, _index, key = heapq.heappop(ready)
        parent = tree.kept_parent(key)
        messages.append(replace(tree.kept[key], parent_ref=parent))
        for child in children[key]:
            offer(child, moment)
    if len(messages) < len(tree.kept):  # some hang from each other, never from a root
        raise EntryError(_("the message tree has a loop"))
    return messages


def _current(tree: _Tree, current_node) -> str | None:
    """The kept node at or above ``current_node`` (None without a usable one: the last message is then
    current)."""
    if not isinstance(current_node, str) or current_node not in tree.nodes:
        return None
    return tree.kept_at_or_above(current_node)


def _message(node: dict) -> MessageData | None:
    message = node.get("message")
    if message is None:
        return None
    if not isinstance(message, dict):
        raise EntryError(_("a message is not an object"))
    author = message.get("author") or {}
    role = IMPORTED_ROLES.get(author.get("role") if isinstance(author, dict) else None)
    if role is None:  # system, tool, or unknown
        return None
    metadata = message.get("metadata") or {}
    if isinstance(metadata, dict) and metadata.get("is_visually_hidden_from_conversation"):
        return None
    content = _content_text(message.get("content")).replace("\x00", "")
    if not content:
        return None
    created_at = parse_time(message.get("create_time"), what="a message's create_time")
    return MessageData(role=role, content=content, created_at=created_at)


def conversation_from_chatgpt(raw) -> ConversationData:
    """One conversation of the export as our data; ``EntryError`` says what is wrong with it."""
    if not isinstance(raw, dict):
        raise EntryError(_("a conversation must be an object, not %(type)s") % {"type": type(raw).__name__})
    mapping = raw.get("mapping")
    if not isinstance(mapping, dict):
        raise EntryError(_("the conversation has no 'mapping' (its message tree)"))
    title = text(raw.get("title"), what="title")
    created_at = parse_time(raw.get("create_time"), what="create_time")
    updated_at = parse_time(raw.get("update_time"), what="update_time")
    tree = _Tree(mapping)
    messages = _messages(tree)
    source_key = raw.get("id") or raw.get("conversation_id") or ""
    return ConversationData(
        source=SourceFormat.CHATGPT,
        source_key=str(source_key)[:200],
        title=title,
        created_at=created_at,
        updated_at=updated_at,
        messages=tuple(messages),
        current_ref=_current(tree, raw.get("current_node")),
    )
