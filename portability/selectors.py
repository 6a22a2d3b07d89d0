"""Reads for imports and exports, always scoped to one user (anyone else's is simply not found)."""

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts.models import User
from collector.models import Item
from collector.selectors import item_list
from conversations.models import Conversation, Message
from conversations.selectors import attachments_prefetch, conversation_get, conversations_owned, message_list
from files.models import StoredFile
from files.selectors import file_list
from sharing.models import Share
from todos.models import Todo
from todos.selectors import todo_list

from .models import Export, ExportStatus, Import


def imports_of(*, user: User) -> QuerySet[Import]:
    return Import.objects.filter(owner=user).order_by("-created_at", "id")


def exports_of(*, user: User) -> QuerySet[Export]:
    return Export.objects.filter(owner=user).order_by("-created_at", "id")


def exports_expired(*, now=None) -> QuerySet[Export]:
    """Finished exports past their expiry whose file is still kept."""
    return Export.objects.filter(status=ExportStatus.DONE, expires_at__lte=now or timezone.now())


def _every_message() -> QuerySet[Message]:
    return Message.objects.select_related("model").prefetch_related(attachments_prefetch()).order_by("created_at", "id")


def conversation_for_export(*, user: User, pk, whole_tree: bool) -> tuple[Conversation, QuerySet[Message]]:
    """One of the user's conversations (``Conversation.DoesNotExist`` for anyone else's) and, oldest
    first, every message of its tree (``whole_tree``: the JSON document) or its active path (what
    its reader sees: the Markdown transcript)."""
    conversation = conversation_get(user=user, pk=pk, summary=False)
    if whole_tree:
        return conversation, _every_message().filter(conversation=conversation)
    return conversation, message_list(conversation=conversation)


def conversations_for_archive(*, user: User) -> QuerySet[Conversation]:
    """Every conversation of the user's (archived ones too; not the OpenAI-compatible API's
    per-request ones) with every message of its tree (each version of a turn), oldest first."""
    return (
        conversations_owned(user=user, summary=False)
        .prefetch_related(Prefetch("messages", queryset=_every_message()))
        .order_by("created_at", "id")
    )


def items_for_archive(*, user: User) -> QuerySet[Item]:
    return item_list(user=user).order_by("created_at", "id")


def files_for_archive(*, user: User) -> QuerySet[StoredFile]:
    return (
        file_list(owner=user)
        .order_by("created_at", "id")
        .prefetch_related(Prefetch("collector_items", Item.objects.only("id", "stored_file_id")))
        .prefetch_related(Prefetch("messages", Message.objects.only("id")))
    )


def todos_for_archive(*, user: User) -> QuerySet[Todo]:
    return todo_list(user=user).order_by("created_at", "id")


def shares_for_archive(*, user: User) -> QuerySet[Share]:
    """Every share the user made, revoked and expired ones too (they are part of their history)."""
    return Share.objects.filter(owner=user).order_by("created_at", "id")
