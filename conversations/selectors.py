"""Reads for conversations, already scoped to a user and shaped for their serializers."""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Substr

from accounts.models import User
from collector.models import Item
from core.search import icontains
from files.models import StoredFile

from .models import Conversation, Feedback, LLMModel, Message, OriginKind, Prompt
from .quota import DailyUsage, daily_usage

PREVIEW_CHARS = 160


def attachments_prefetch() -> Prefetch:
    return Prefetch("attachments", queryset=attachments_ordered())


SEARCH_MAX_CHARS = 200


def _visible_messages() -> QuerySet[Message]:
    """Messages still part of their conversation: a regenerated or edited turn is superseded, kept
    in the database (the admin, the daily quota) but shown to no reader and sent to no model."""
    return Message.objects.filter(superseded=False)


def _with_list_annotations(qs: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Message count and a preview of the last message, computed in the same query."""
    # A reply that has not produced text yet is skipped, so the preview is never blank mid-reply.
    last_message = (
        _visible_messages().filter(conversation=OuterRef("pk")).exclude(content="").order_by("-created_at", "-id")
    )
    return qs.select_related("model").annotate(
        message_count=Count("messages", filter=Q(messages__superseded=False), distinct=True),
        last_message_preview=Subquery(last_message.annotate(p=Substr("content", 1, PREVIEW_CHARS)).values("p")[:1]),
        last_message_role=Subquery(last_message.values("role")[:1]),
    )


def _app_conversations(user: User) -> QuerySet[Conversation]:
    # The API's requests are conversations too (one each, for the ledger), not the app's to list.
    return Conversation.objects.filter(owner=user).exclude(origin_kind=OriginKind.API)


def conversation_list(
    *, user: User, q: str | None = None, archived: bool | None = None, pinned: bool | None = None
) -> QuerySet[Conversation]:
    """The user's conversations, pinned first, then the most recently active.

    ``q`` matches the title or the content of any message, case-insensitively. ``archived=None``
    means both archived and active ones.
    """
    qs = _app_conversations(user)
    if archived is not None:
        qs = qs.filter(archived=archived)
    if pinned is not None:
        qs = qs.filter(pinned=pinned)
    q = (q or "").strip()[:SEARCH_MAX_CHARS]
    if q:
        # EXISTS rather than a join, so a conversation with several matching messages is listed once.
        # Both Unicode forms of Korean (core.search): typed syllables find pasted jamo and back.
        matching_message = _visible_messages().filter(icontains("content", q), conversation=OuterRef("pk"))
        qs = qs.filter(icontains("title", q) | Q(Exists(matching_message)))
    return _with_list_annotations(qs).order_by("-pinned", "-updated_at", "-created_at", "-id")


def conversations_owned(*, user: User, summary: bool = True) -> QuerySet[Conversation]:
    """The user's conversations, the only ones they may read or change: anyone else's is simply
    not found (404).

    ``summary=False`` skips the message count and preview, whose cost grows with the conversation:
    for writes (sending a message, stop, feedback) that only need the row.
    """
    mine = _app_conversations(user)
    return _with_list_annotations(mine) if summary else mine.select_related("model")


def conversation_get(*, user: User, pk, summary: bool = True) -> Conversation:
    """One of the user's conversations (``Conversation.DoesNotExist`` for anyone else's)."""
    return conversations_owned(user=user, summary=summary).get(pk=pk)


def message_list(*, conversation: Conversation, user: User | None = None) -> QuerySet[Message]:
    """The conversation's messages (not superseded ones), oldest first; with ``user``, their own
    rating of each one."""
    qs = (
        _visible_messages()
        .filter(conversation=conversation)
        .select_related("model")
        .prefetch_related(attachments_prefetch())
        .order_by("created_at", "id")
    )
    if user is not None:
        own_feedback = Feedback.objects.filter(message=OuterRef("pk"), user=user)
        qs = qs.annotate(my_rating=Subquery(own_feedback.values("rating")[:1]))
    return qs


def message_get(*, conversation: Conversation, pk) -> Message:
    return Message.objects.filter(conversation=conversation).select_related("model").get(pk=pk)


def attachments_ordered() -> QuerySet[StoredFile]:
    """A message's attachments as shown: the order they were uploaded in (the composer's)."""
    return StoredFile.objects.order_by("created_at", "id").only("id", "name", "content_type", "size", "status")


def model_list_public() -> QuerySet[LLMModel]:
    return LLMModel.objects.filter(enabled=True).order_by("order", "id")


def prompt_list_public(*, category: str | None = None, language: str | None = None) -> QuerySet[Prompt]:
    """Enabled prompts for a reader of ``language`` (the request's): theirs and those for everyone."""
    qs = Prompt.objects.filter(enabled=True)
    if language:
        qs = qs.filter(language__in=("", language))
    if category:
        qs = qs.filter(category__iexact=category)
    return qs.order_by("order", "id")


def usage_today(*, settings_row) -> DailyUsage:
    """The day's replies asked for against the user's plan (the reply ledger: ``quota.daily_usage``)."""
    return daily_usage(settings_row=settings_row)


def conversation_context_items(*, conversation) -> QuerySet[Item]:
    """Collector items attached to a conversation (the owner's only); the generation engine reads
    their text as context."""
    return _owned_context_items(conversation).prefetch_related("tags").order_by("id")


def _owned_context_items(conversation) -> QuerySet[Item]:
    # The owner's items only, whoever attached them (the admin, a row written behind its back).
    return conversation.context_items.filter(owner_id=conversation.owner_id)


def conversation_context_item_ids(*, conversation) -> list[int]:
    """The ids of the conversation's collector items a reply may search (the owner's only)."""
    return list(_owned_context_items(conversation).order_by("id").values_list("pk", flat=True))
