"""Reads for conversations, already scoped to a user and shaped for their serializers."""

from django.db.models import Case, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce, Substr

from accounts.models import User
from collector.models import Item
from core.search import icontains
from files.models import StoredFile

from . import tree
from .models import Conversation, Feedback, LLMModel, Message, OriginKind, Prompt
from .quota import DailyUsage, daily_usage

PREVIEW_CHARS = 160


def attachments_prefetch() -> Prefetch:
    return Prefetch("attachments", queryset=attachments_ordered())


SEARCH_MAX_CHARS = 200


def _with_list_annotations(qs: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Message count and a preview of the last message, from the current leaf (the active path's
    length is its depth plus one): a join, no count over the messages."""
    # A reply that has not produced text yet shows its question, so the preview is never blank mid-reply.
    leaf, above = "current_message__content", "current_message__parent__content"
    leaf_blank = Q(current_message__content="") & Q(current_message__parent__isnull=False)
    return qs.select_related("model").annotate(
        message_count=Coalesce(F("current_message__depth") + 1, 0),
        last_message_preview=Case(
            When(leaf_blank, then=Substr(above, 1, PREVIEW_CHARS)), default=Substr(leaf, 1, PREVIEW_CHARS)
        ),
        last_message_role=Case(
            When(leaf_blank, then=F("current_message__parent__role")), default=F("current_message__role")
        ),
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
        # Every version of every turn: a user finds what was said on any branch.
        matching_message = Message.objects.filter(icontains("content", q), conversation=OuterRef("pk"))
        qs = qs.filter(icontains("title", q) | Q(Exists(matching_message)))
    return _with_list_annotations(qs).order_by("-pinned", "-updated_at", "-created_at", "-id")


def conversations_owned(*, user: User, summary: bool = True) -> QuerySet[Conversation]:
    """The user's conversations, the only ones they may read or change: anyone else's is simply
    not found (404).

    ``summary=False`` skips the message count and preview, whose cost grows with the conversation:
    for writes (sending a message, stop, feedback) that only need the row.
    """
    mine = _app_conversations(user)
    # The current leaf comes with the row: a message sent goes under it by default.
    return _with_list_annotations(mine) if summary else mine.select_related("model", "current_message")


def conversation_get(*, user: User, pk, summary: bool = True) -> Conversation:
    """One of the user's conversations (``Conversation.DoesNotExist`` for anyone else's)."""
    return conversations_owned(user=user, summary=summary).get(pk=pk)


def message_list(
    *, conversation: Conversation, user: User | None = None, path: list[str] | None = None
) -> QuerySet[Message]:
    """The conversation's active path (``path``: its ids, as ``tree.active_path`` gives them), root
    first; with ``user``, their own rating of each one."""
    if path is None:
        _skeleton, path = tree.active_path(conversation)
    qs = (
        Message.objects.filter(conversation=conversation, pk__in=path)
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
