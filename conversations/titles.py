"""Titles for untitled conversations, from their first question (run after a first reply)."""

import re

from .models import Conversation, Message, Role

AUTOTITLE_MAX_CHARS = 60


def _title_from(text: str, limit: int = AUTOTITLE_MAX_CHARS) -> str:
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    title = re.sub(r"\s+", " ", first_line).strip()
    if len(title) <= limit:
        return title
    cut = title[: limit + 1]
    # Cut at the last space that keeps the title within the limit; one long word is cut hard.
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else title[:limit]).rstrip(" ,.;:-")


def conversation_autotitle(*, conversation_id) -> str | None:
    """Give an untitled conversation a title from its first user message. Returns the new title."""
    first = (
        Message.objects.filter(conversation_id=conversation_id, role=Role.USER)
        .order_by("created_at", "id")
        .values_list("content", flat=True)
        .first()
    )
    title = _title_from(first or "")
    if not title:
        return None
    # A conditional UPDATE: a title the user set meanwhile is never overwritten.
    updated = Conversation.objects.filter(pk=conversation_id, title="").update(title=title)
    return title if updated else None
