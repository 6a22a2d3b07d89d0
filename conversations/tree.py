"""A conversation as a tree: every message has a parent (``None`` for a first message), the
conversation has a current leaf, and the active path is the chain from a root to that leaf.

What is shown, shared, exported as Markdown and sent to a model is a path; nothing is ever taken
out of the tree. A message's siblings are its other versions (a regenerated reply, an edited
question), oldest first. Children are always made after their parent, so a path ordered by
``(created_at, id)`` is root first.

``Skeleton`` is one read of a conversation's shape (ids, parents, times: no text), from which every
path, sibling list and "newest version below" is worked out without another query.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from .models import Message


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    parent_id: str | None
    created_at: datetime


def _key(node: Node) -> tuple:
    return (node.created_at, node.id)


class Skeleton:
    """The shape of one conversation (or of any set of messages whose parents are among them)."""

    def __init__(self, nodes: Iterable[Node]):
        self.nodes: dict[str, Node] = {node.id: node for node in nodes}
        children: dict[str | None, list[Node]] = defaultdict(list)
        for node in self.nodes.values():
            # A parent outside the set (never in one conversation) reads as a root.
            parent = node.parent_id if node.parent_id in self.nodes else None
            children[parent].append(node)
        self._children = {parent: sorted(kids, key=_key) for parent, kids in children.items()}

    @classmethod
    def of(cls, conversation_id) -> "Skeleton":
        rows = Message.objects.filter(conversation_id=conversation_id).values_list("id", "parent_id", "created_at")
        return cls(Node(str(pk), str(parent) if parent else None, created) for pk, parent, created in rows)

    def __contains__(self, message_id) -> bool:
        return str(message_id) in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def children(self, message_id) -> list[str]:
        """The ids of a message's children (``None``: the roots), oldest first."""
        key = None if message_id is None else str(message_id)
        return [node.id for node in self._children.get(key, ())]

    def sibling_ids(self, message_id) -> list[str]:
        """The ids of every version of this message (itself included), oldest first."""
        node = self.nodes[str(message_id)]
        parent = node.parent_id if node.parent_id in self.nodes else None
        return self.children(parent)

    def path(self, leaf_id) -> list[str]:
        """The ids from a root down to ``leaf_id`` (empty when it is not here), root first."""
        path: list[str] = []
        node = self.nodes.get(str(leaf_id)) if leaf_id is not None else None
        seen: set[str] = set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            path.append(node.id)
            node = self.nodes.get(node.parent_id) if node.parent_id else None
        path.reverse()
        return path

    def newest_leaf(self, message_id=None) -> str | None:
        """Down from ``message_id`` (``None``: from the roots) through the newest child each time:
        the leaf the active path reaches when it goes through that message."""
        current = None if message_id is None else str(message_id)
        while kids := self.children(current):
            current = kids[-1]
        return current

    def leaf(self, current_message_id) -> str | None:
        """The conversation's current leaf as stored, or (none stored, or one no longer here) the
        newest leaf: a conversation always shows a path when it has messages."""
        if current_message_id is not None and str(current_message_id) in self.nodes:
            return str(current_message_id)
        return self.newest_leaf()


@dataclass(frozen=True, slots=True)
class LinearRow:
    """A message of a conversation kept as a line (before trees, or an older export): its place
    in time order, its role, and whether a regenerate or an edit replaced it."""

    id: str
    role: str
    superseded: bool = False


def parents_from_line(rows: Sequence[LinearRow]) -> tuple[dict[str, str | None], dict[str, int], str | None]:
    """The tree a line of messages stood for: ``(parent of each id, depth of each id, current leaf)``.

    Before trees, a regenerate or an edit marked the last question and everything after it
    superseded and appended the new question and its reply. So a question that follows a
    superseded message replaces the last question on the way down: it is that question's sibling.
    Everything else follows the message before it. The current leaf is the last message not
    superseded (the line as it was read), else the last one.
    """
    parents: dict[str, str | None] = {}
    depths: dict[str, int] = {}
    stack: list[LinearRow] = []
    for row in rows:
        if row.role == "user" and stack and stack[-1].superseded:
            # Back to where the replaced question was asked.
            while stack and stack[-1].role != "user":
                stack.pop()
            if stack:
                stack.pop()
        parents[row.id] = stack[-1].id if stack else None
        depths[row.id] = len(stack)
        stack.append(row)
    current = next((row.id for row in reversed(rows) if not row.superseded), rows[-1].id if rows else None)
    return parents, depths, current


def active_path(conversation) -> tuple[Skeleton, list[str]]:
    """The conversation's shape and its active path (root first): one query."""
    skeleton = Skeleton.of(conversation.pk)
    return skeleton, skeleton.path(skeleton.leaf(conversation.current_message_id))
