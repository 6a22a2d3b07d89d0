"""Writes for shares and samples: keyword-only, transactional, validating before saving.

A share or a sample is a snapshot: the visible messages are copied when it is made, and a clone
copies the snapshot back into a new conversation of the caller. Both directions have one helper
each (``_snapshot_messages`` and ``_conversation_from_snapshot``), shared by shares and samples.
"""

from datetime import UTC

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from conversations.model_choice import model_for_or_none
from conversations.models import Conversation, LLMModel, Message, MessageStatus, OriginKind, Role
from conversations.services import PastMessage, conversation_create_from_history
from conversations.titles import AUTOTITLE_MAX_CHARS
from conversations.tree import active_path
from core.exceptions import Conflict
from core.titles import title_clean, title_from_text

from . import snapshot
from .models import Sample, Share

TITLE_MAX_CHARS = Share._meta.get_field("title").max_length
DESCRIPTION_MAX_CHARS = 2000
DEFAULT_SHARE_TITLE = "Shared conversation"

# Only what the conversation's reader sees as finished text on its active path (conversations.tree);
# system prompts, failed or half-made replies, the other versions of a turn (regenerated or
# edited) and status internals never leave the owner's conversation.
_SHAREABLE_ROLES = (Role.USER, Role.ASSISTANT)
_SHAREABLE_STATUSES = (MessageStatus.COMPLETE, MessageStatus.STOPPED)


def _snapshot_messages(*, conversation: Conversation) -> list[dict]:
    """The finished turns of the conversation's active path as a share or sample holds them. A
    question's files are named (name, type, size), never given; a reply's sources are copied as text,
    its notices too, and the tools it called with their results, but for the servers the operator
    marks private (``snapshot``)."""
    _skeleton, path = active_path(conversation)
    rows = list(
        Message.objects.filter(
            conversation=conversation, pk__in=path, role__in=_SHAREABLE_ROLES, status__in=_SHAREABLE_STATUSES
        )
        .order_by("created_at", "id")
        .values_list("id", "role", "content", "created_at", "sources", "tool_calls", "notices")
    )
    attached: dict = {}
    through = Message.attachments.through
    files = (
        through.objects.filter(message_id__in=[row[0] for row in rows if row[1] == Role.USER])
        .order_by("id")
        .values_list("message_id", "storedfile__name", "storedfile__content_type", "storedfile__size")
    )
    for message_id, name, content_type, size in files:
        attached.setdefault(message_id, []).append({"name": name, "content_type": content_type, "size": size})
    private = snapshot.private_servers() if any(row[5] for row in rows) else set()
    messages = []
    for message_id, role, content, created, sources, tool_calls, notices in rows:
        calls = snapshot.shared_calls(tool_calls, private=private) if role == Role.ASSISTANT else []
        if not content and not attached.get(message_id) and not calls:
            continue
        item = {"role": role, "content": content, "created_at": _iso(created)}
        if attached.get(message_id):
            item["attachments"] = attached[message_id]
        if sources:
            shared = (snapshot.shared_source(source) for source in sources)
            item["sources"] = [source for source in shared if source is not None]
        if calls:
            item["tool_calls"] = calls
        if role == Role.ASSISTANT and (shown := snapshot.shared_notices(notices)):
            item["notices"] = shown
        messages.append(item)
    return messages


def _iso(moment) -> str:
    # The API's own format (UTC, "Z"), so snapshot times read like every other time it returns.
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _snapshot_or_conflict(*, conversation: Conversation) -> list[dict]:
    messages = _snapshot_messages(conversation=conversation)
    if not messages:
        raise Conflict("This conversation has no finished messages to share yet.", code="nothing_to_share")
    return messages


def _share_title(*, title: str | None, conversation: Conversation, messages: list[dict]) -> str:
    """The title given, else the conversation's, else one made from its first question."""
    first_question = next((m["content"] for m in messages if m["role"] == Role.USER), "")
    fallback = conversation.title or title_from_text(first_question, max_length=AUTOTITLE_MAX_CHARS)
    return title_clean(title, max_length=TITLE_MAX_CHARS, fallback=fallback) or DEFAULT_SHARE_TITLE


def _clone_model(*, user: User, slug: str) -> LLMModel | None:
    """The snapshot's model while the cloning user may use it, else their default (None if none)."""
    snapshot_model = LLMModel.objects.filter(slug=slug).first() if slug else None
    return model_for_or_none(user=user, preferred=snapshot_model)


def _conversation_from_snapshot(
    *, user: User, title: str, messages: list[dict], model_slug: str, origin_kind: str, origin_id: str
) -> Conversation:
    """A new conversation of ``user`` holding the snapshot's messages as they are shown now (the
    results of private tool servers left out), ready to be continued."""
    model = _clone_model(user=user, slug=model_slug)
    messages = snapshot.shown_messages(messages)
    conversation = conversation_create_from_history(
        owner=user,
        title=title,
        messages=(
            PastMessage(
                role=item["role"],
                content=_cloned_content(item),
                model=model if item["role"] == Role.ASSISTANT else None,
                # As text: the cloner gets the snippets, not the files (they stay their owner's).
                sources=[{**source, "id": ""} for source in item.get("sources", [])],
                tool_calls=item.get("tool_calls") or [],
                notices=item.get("notices") or [],
            )
            for item in messages
        ),
        count=len(messages),
        model=model,
        origin_kind=origin_kind,
        origin_id=origin_id,
    )
    return conversation


def _cloned_content(item: dict) -> str:
    """A turn's text in a clone: a question of files alone names them (the files are not copied)."""
    if item["content"] or not item.get("attachments"):
        return item["content"]
    return "(Attached: " + ", ".join(file["name"] for file in item["attachments"]) + ")"


def _check_expiry(expires_at) -> None:
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": [gettext("Must be in the future.")]}, code="expired")


# --- shares -----------------------------------------------------------------------------------


@transaction.atomic
def share_create(*, user: User, conversation: Conversation, title: str | None = None, expires_at=None) -> Share:
    """Snapshot ``conversation`` (which must be ``user``'s) as a new public share."""
    if conversation.owner_id != user.pk:
        # The caller's view already scopes the conversation; this guards other callers.
        raise ValidationError({"conversation_id": [gettext("Not found.")]}, code="not_found")
    _check_expiry(expires_at)
    messages = _snapshot_or_conflict(conversation=conversation)
    model = conversation.model
    return Share.objects.create(
        owner=user,
        source_conversation=conversation,
        title=_share_title(title=title, conversation=conversation, messages=messages),
        model_slug=model.slug if model else "",
        model_name=model.display_name if model else "",
        messages=messages,
        message_count=len(messages),
        expires_at=expires_at,
    )


def share_revoke(*, share: Share) -> Share:
    """Soft delete: the link stops working at once; the row stays for the admin's records."""
    if share.revoked_at is None:
        share.revoked_at = timezone.now()
        share.save(update_fields=["revoked_at"])
    return share


def shares_revoke(*, shares: QuerySet[Share]) -> int:
    """Revoke every live share of ``shares`` in one UPDATE; returns how many were revoked."""
    return shares.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def share_register_view(*, share: Share) -> None:
    # One UPDATE with F(): concurrent views never lose a count to a read-modify-write race.
    Share.objects.filter(pk=share.pk).update(view_count=F("view_count") + 1)


@transaction.atomic
def share_clone(*, share: Share, user: User) -> Conversation:
    return _conversation_from_snapshot(
        user=user,
        title=share.title,
        messages=share.messages,
        model_slug=share.model_slug,
        origin_kind=OriginKind.SHARE,
        origin_id=share.pk,
    )


# --- samples ----------------------------------------------------------------------------------


@transaction.atomic
def sample_create_from_conversation(
    *,
    conversation: Conversation,
    created_by: User | None,
    title: str | None = None,
    description: str = "",
    published: bool = True,
) -> Sample:
    messages = _snapshot_or_conflict(conversation=conversation)
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_CHARS:
        raise ValidationError(
            {
                "description": [
                    gettext("Ensure this field has no more than %(max)d characters.") % {"max": DESCRIPTION_MAX_CHARS}
                ]
            },
            code="max_length",
        )
    model = conversation.model
    return Sample.objects.create(
        title=_share_title(title=title, conversation=conversation, messages=messages),
        description=description,
        model_slug=model.slug if model else "",
        messages=messages,
        message_count=len(messages),
        source_conversation=conversation,
        created_by=created_by,
        published=published,
    )


def samples_set_published(*, samples: QuerySet[Sample], published: bool) -> int:
    """Bulk publish/unpublish in one UPDATE (admin actions); returns how many changed."""
    return samples.exclude(published=published).update(published=published, updated_at=timezone.now())


@transaction.atomic
def sample_clone(*, sample: Sample, user: User) -> Conversation:
    return _conversation_from_snapshot(
        user=user,
        title=sample.title,
        messages=sample.messages,
        model_slug=sample.model_slug,
        origin_kind=OriginKind.SAMPLE,
        origin_id=str(sample.pk),
    )
