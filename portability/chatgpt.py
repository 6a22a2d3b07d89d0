"""Reading one conversation of a ChatGPT data export (``conversations.json``).

A conversation is a tree: ``mapping`` holds every node (``{id, message, parent, children}``), and
``current_node`` names the last node of the branch the user saw (a regenerated reply or an edited
question starts a sibling branch). That branch is what is imported: parents are walked from
``current_node`` up to the root, then reversed. Nodes without a message, system and tool
messages, messages hidden from the conversation (``metadata.is_visually_hidden_from_conversation``)
and messages with no text are left out.
"""

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


def _branch(mapping: dict, current_node) -> list[dict]:
    """The nodes from the root to ``current_node`` (or, without a usable one, to the leaf reached
    by always taking the last child)."""
    if current_node not in mapping:
        roots = [key for key, node in mapping.items() if isinstance(node, dict) and not node.get("parent")]
        if not roots:
            raise EntryError(_("the message tree has no root"))
        current_node = roots[0]
        for _depth in range(MAX_DEPTH):
            children = mapping.get(current_node, {}).get("children") or []
            children = [child for child in children if child in mapping]
            if not children:
                break
            current_node = children[-1]
    path: list[dict] = []
    seen: set = set()
    node_id = current_node
    while node_id is not None:
        if node_id in seen or len(path) > MAX_DEPTH:
            raise EntryError(_("the message tree has a loop"))
        seen.add(node_id)
        node = mapping.get(node_id)
        if node is None:
            raise EntryError(_("the message tree names a missing node %(node)s") % {"node": repr(str(node_id)[:40])})
        if not isinstance(node, dict):
            raise EntryError(_("a node of the message tree is not an object"))
        path.append(node)
        node_id = node.get("parent")
    path.reverse()
    return path


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
    messages = [m for m in (_message(node) for node in _branch(mapping, raw.get("current_node"))) if m is not None]
    source_key = raw.get("id") or raw.get("conversation_id") or ""
    return ConversationData(
        source=SourceFormat.CHATGPT,
        source_key=str(source_key)[:200],
        title=title,
        created_at=created_at,
        updated_at=updated_at,
        messages=tuple(messages),
    )
