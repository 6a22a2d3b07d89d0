"""Titles for untitled conversations, from their first question (run after a first reply)."""

from core.titles import title_from_text

from .models import Conversation, Message, Role

AUTOTITLE_MAX_CHARS = 60


def conversation_autotitle(*, conversation_id) -> str | None:
    """Give an untitled conversation a title from its first user message. Returns the new title."""
    first = (
        # The first question ever asked (a first message's later versions do not rename the chat).
        Message.objects.filter(conversation_id=conversation_id, role=Role.USER, parent=None)
        .order_by("created_at", "id")
        .values_list("content", flat=True)
        .first()
    )
    title = title_from_text(first, max_length=AUTOTITLE_MAX_CHARS)
    if not title:
        return None
    # A conditional UPDATE: a title the user set meanwhile is never overwritten.
    updated = Conversation.objects.filter(pk=conversation_id, title="").update(title=title)
    return title if updated else None
