"""Writes for conversations: keyword-only, transactional, validating before saving.

The generation itself belongs to ``conversations.generation``; this module only creates the rows the
engine works on and hands it the assistant message id after the transaction commits.
"""

import itertools
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Plan, User, UserSettings
from accounts.preferences import saved_zone
from accounts.services import user_settings_get
from collector.models import Item
from core.exceptions import Conflict, DomainError, ReferenceNotFound
from core.services import save_changed
from core.titles import title_clean, title_fit
from files.models import FileStatus, StoredFile
from files.services import files_delete_unreferenced
from tools.selectors import tools_allowed, tools_problem

from . import generation, selectors, tree, window
from .capabilities import VISION, capabilities_clean, has_capability
from .exceptions import (
    DailyQuotaExceeded,
    GenerationInProgress,
    MessageNotFound,
    NotContinuable,
    NothingInFlight,
    NothingToRegenerate,
    NotLastMessage,
    TooManyGenerations,
    UnsupportedParameter,
)
from .images import content_text, image_count
from .model_choice import model_allowed_expression, model_for, model_resolve
from .models import (
    IN_FLIGHT_STATUSES,
    Conversation,
    Feedback,
    LedgerEntry,
    LLMModel,
    Message,
    MessageStatus,
    OriginKind,
    Rating,
    Role,
)
from .quota import DailyUsage, counted_since, daily_usage, messages_sent_since_expression

TITLE_MAX_CHARS = Conversation._meta.get_field("title").max_length
SYSTEM_PROMPT_MAX_CHARS = 8000
FEEDBACK_COMMENT_MAX_CHARS = 2000
MAX_CONTEXT_ITEMS = 20
MAX_ATTACHMENTS = 10

# --- conversations ----------------------------------------------------------------------------


def _clean_system_prompt(system_prompt: str) -> str:
    if len(system_prompt) > SYSTEM_PROMPT_MAX_CHARS:
        raise ValidationError(
            {
                "system_prompt": [
                    _("Ensure this field has no more than %(limit)d characters.") % {"limit": SYSTEM_PROMPT_MAX_CHARS}
                ]
            },
            code="max_length",
        )
    return system_prompt.strip()


@dataclass(frozen=True)
class PastMessage:
    """A message of a conversation made from history (a clone, an import): as it was.

    ``ref`` names it among the messages given and ``parent_ref`` names its parent (``None``: a
    first message), for a history that is a tree (``conversation_create_from_history(tree=True)``);
    a line of messages needs neither."""

    role: str
    content: str
    created_at: datetime | None = None  # None: right after the one before
    model: LLMModel | None = None
    status: str = MessageStatus.COMPLETE
    finish_reason: str = ""
    sources: list = field(default_factory=list)
    tool_calls: list = field(default_factory=list)  # as ``Message.tool_calls`` (a reply's)
    notices: list = field(default_factory=list)
    attachments: tuple = ()  # ids of the owner's StoredFiles (an import's restored files)
    ref: str = ""
    parent_ref: str | None = None


HISTORY_BATCH = 500  # messages per INSERT: a model instance costs about a kilobyte


def _in_time_order(messages: Iterable[PastMessage], *, start: datetime) -> Iterator[tuple[PastMessage, datetime]]:
    """Each message with its time, or the one before it plus a microsecond when it has none
    (``start`` for a first without one), made strictly increasing: the order is the given order."""
    previous: datetime | None = None
    for message in messages:
        moment = message.created_at
        if moment is None:
            moment = previous + timedelta(microseconds=1) if previous else start
        if previous is not None and moment <= previous:
            moment = previous + timedelta(microseconds=1)
        previous = moment
        yield message, moment


def conversation_create_from_history(
    *,
    owner: User,
    title: str,
    messages: Iterable[PastMessage],
    count: int,
    model: LLMModel | None = None,
    system_prompt: str = "",
    pinned: bool = False,
    archived: bool = False,
    origin_kind: str = "",
    origin_id: str = "",
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
    tree: bool = False,
    current_ref: str | None = None,
    tools: Sequence[str] = (),
) -> Conversation:
    """A conversation of ``owner`` holding past messages, ready to be continued (a share's or a
    sample's clone, a branch, an imported one). The one time rule for all: messages keep their
    times, made strictly increasing in the given order; those without one follow the one before;
    with no time at all (a clone) the ``count`` messages end now, so the owner's next message
    sorts after them. The conversation starts at ``created_at`` (else its first message) and was
    last active at ``updated_at`` (else its last message). Nothing here is a reply asked for: no
    ledger entry, no quota. Call inside a transaction; ``messages`` is read once, a batch at a time.

    The messages are a line (each one follows the one before, the last is the current leaf), or
    with ``tree`` a tree: each names its parent by ``parent_ref`` (given before it; an unknown
    one makes it a first message) and ``current_ref`` names the current leaf (else the last one).
    """
    now = timezone.now()
    start = created_at or now - timedelta(microseconds=max(count - 1, 0))
    conversation = Conversation.objects.create(
        owner=owner,
        title=title_fit(title, max_length=TITLE_MAX_CHARS),
        model=model,
        system_prompt=system_prompt[:SYSTEM_PROMPT_MAX_CHARS],
        pinned=pinned,
        archived=archived,
        origin_kind=origin_kind,
        origin_id=origin_id,
        created_at=start,
        # The tools it had that its new owner may enable here (another server's are not here).
        tools=tools_allowed(user=owner, names=tools) if tools else [],
    )
    first = last = None
    # (id, depth) of each placed message a later one may name as its parent: the tree's shape only.
    placed: dict[str, tuple] = {}
    previous: tuple | None = None
    current: tuple | None = None
    newest_child: dict = {}  # id -> its newest child's (id, depth): the current leaf is a leaf
    timed = _in_time_order(messages, start=start)
    while batch := list(itertools.islice(timed, HISTORY_BATCH)):
        rows = []
        for m, moment in batch:
            parent = (placed.get(m.parent_ref) if m.parent_ref is not None else None) if tree else previous
            row = Message(
                conversation=conversation,
                parent_id=parent[0] if parent else None,
                depth=parent[1] + 1 if parent else 0,
                role=m.role,
                content=m.content,
                status=m.status,
                model=m.model,
                finish_reason=m.finish_reason,
                sources=m.sources,
                tool_calls=m.tool_calls,
                notices=m.notices,
                created_at=moment,
                finished_at=moment,
            )
            rows.append(row)
            previous = (row.pk, row.depth)
            if row.parent_id is not None:
                newest_child[row.parent_id] = previous
            if tree and m.ref:
                placed[m.ref] = previous
                if m.ref == current_ref:
                    current = previous
        Message.objects.bulk_create(rows)
        # The ids are made here (uuid4), so the attachments' rows need no read back.
        Message.attachments.through.objects.bulk_create(
            Message.attachments.through(message_id=row.pk, storedfile_id=file_id)
            for row, (m, _) in zip(rows, batch, strict=True)
            for file_id in dict.fromkeys(m.attachments)
        )
        first = first or batch[0][1]
        last = batch[-1][1]
    leaf = current or previous
    # The current message is always a leaf (what a default send goes under): a current that has
    # versions below it (an import's current node left out, its parent kept) goes on down its
    # newest ones, as a switch does.
    while leaf is not None and leaf[0] in newest_child:
        leaf = newest_child[leaf[0]]
    changes = {"updated_at": updated_at or last or conversation.created_at, "current_message_id": leaf and leaf[0]}
    if created_at is None and first is not None and first != conversation.created_at:
        changes["created_at"] = first
    # updated_at is auto_now: an UPDATE is the way to keep the history's time.
    Conversation.objects.filter(pk=conversation.pk).update(**changes)
    conversation.current_message_id = changes["current_message_id"]
    return conversation


def conversation_create(
    *,
    user: User,
    title: str = "",
    model_slug: str | None = None,
    system_prompt: str = "",
    tools: Sequence[str] = (),
) -> Conversation:
    model = model_resolve(user=user, slug=model_slug)
    return Conversation.objects.create(
        owner=user,
        title=title_clean(title, max_length=TITLE_MAX_CHARS),
        model=model,
        system_prompt=_clean_system_prompt(system_prompt),
        tools=_tools_clean(user=user, names=tools),
    )


def _tools_clean(*, user: User, names: Sequence[str]) -> list[str]:
    """A chat's tools as stored: each allowed for ``user`` (else a 400 naming ``tools``), once, in order."""
    names = list(dict.fromkeys(names))
    problem = tools_problem(user=user, names=names) if names else None
    if problem:
        raise ValidationError({"tools": [problem]}, code="invalid_tools")
    return names


_UNSET = object()


@transaction.atomic
def conversation_update(
    *,
    conversation: Conversation,
    user: User,
    title: str | None = None,
    model_slug: str | None | object = _UNSET,
    system_prompt: str | None = None,
    pinned: bool | None = None,
    archived: bool | None = None,
    current_message_id=None,
    tools: Sequence[str] | None = None,
) -> Conversation:
    """Change what was given. ``model_slug=None`` explicitly resets the model to the default.
    ``current_message_id``: show another version (``conversation_switch``), once everything else
    given is known to be fine: a refused change switches nothing."""
    changes: dict = {}
    if title is not None:
        changes["title"] = title_clean(title, max_length=TITLE_MAX_CHARS)
    if model_slug is not _UNSET:
        changes["model"] = model_resolve(user=user, slug=model_slug)  # type: ignore[arg-type]
    if system_prompt is not None:
        changes["system_prompt"] = _clean_system_prompt(system_prompt)
    for name, value in (("pinned", pinned), ("archived", archived)):
        if value is not None:
            changes[name] = value
    if tools is not None:
        changes["tools"] = _tools_clean(user=user, names=tools)
    if current_message_id is not None:
        conversation_switch(conversation=conversation, message_id=current_message_id)
    save_changed(conversation, **changes)
    return conversation


def replies_stop(*, replies) -> int:
    """End the replies in flight among ``replies`` (a Message queryset) because their rows are going
    away (a conversation or an account deleted): their ledger entries end ``stopped`` now, and
    their workers are told to stop once the deletion has committed (a worker's own final save
    then finds no row). Call before deleting the rows, inside the deletion's transaction."""
    # The replies' rows are locked before their ledger entries, in the order a reply's own final
    # save takes them (``generation.rows``): the other order deadlocked the two on PostgreSQL.
    # A reply that ends while this waits is no longer in flight once its lock is had.
    message_ids = list(replies.in_flight().select_for_update(of=("self",)).order_by("pk").values_list("id", flat=True))
    if not message_ids:
        return 0
    LedgerEntry.objects.filter(message_id__in=message_ids, status__in=IN_FLIGHT_STATUSES).update(
        status=MessageStatus.STOPPED
    )

    def stop_all():
        for message_id in message_ids:
            generation.request_stop(message_id=message_id)

    transaction.on_commit(stop_all)
    return len(message_ids)


@transaction.atomic
def conversation_delete(*, conversation: Conversation) -> None:
    replies_stop(replies=Message.objects.filter(conversation=conversation))
    attachments = Message.attachments.through.objects.filter(message__conversation=conversation)
    file_ids = list(attachments.values_list("storedfile_id", flat=True).distinct())
    conversation.delete()
    # Its attachments go too, unless another conversation's message or a collector item holds them.
    files_delete_unreferenced(file_ids=file_ids)


CONVERSATIONS_DELETE_BATCH = 200  # conversations deleted per statement (their messages go with them)


@transaction.atomic
def conversations_delete_owned(*, owner: User) -> int:
    """Every conversation of ``owner`` (an account being deleted), a batch at a time, so an account's
    bulk goes without loading all its messages at once. Returns how many went."""
    replies_stop(replies=Message.objects.filter(conversation__owner=owner))
    deleted = 0
    while ids := list(
        Conversation.objects.filter(owner=owner).values_list("pk", flat=True)[:CONVERSATIONS_DELETE_BATCH]
    ):
        deleted += Conversation.objects.filter(pk__in=ids).delete()[1].get(Conversation._meta.label, 0)
    return deleted


@transaction.atomic
def conversation_context_set(*, user: User, conversation: Conversation, item_ids: Sequence[int]) -> list[Item]:
    """Replace the collector items given to the model as context in one of the user's conversations."""
    if conversation.owner_id != user.pk:
        raise ValidationError({"conversation": [_("Not your conversation.")]})
    ids = list(dict.fromkeys(item_ids))
    if len(ids) > MAX_CONTEXT_ITEMS:
        raise ValidationError(
            {"item_ids": [_("At most %(limit)d items can be attached.") % {"limit": MAX_CONTEXT_ITEMS}]}
        )
    items = list(Item.objects.filter(owner=user, pk__in=ids))
    missing = sorted(set(ids) - {item.pk for item in items})
    if missing:
        raise ReferenceNotFound(
            _("No such items of yours: %(ids)s.") % {"ids": ", ".join(map(str, missing))}, code="items_not_found"
        )
    conversation.context_items.set(items)
    order = {pk: index for index, pk in enumerate(ids)}
    return sorted(items, key=lambda item: order[item.pk])


# --- messages ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendChecks:
    """What the plan's limits and the model's choice check, read with the user's settings row
    locked (``_send_read``): the count of today's messages (``None``: count it again, the day's
    start was guessed wrong), the replies in flight, and whether the plan includes the chat's model."""

    now: datetime
    since: datetime  # where today's count starts (``quota.counted_since`` of the locked row)
    messages_sent: int | None
    in_flight: int
    model_allowed: bool


def _in_flight_expression(owner_field: str) -> Coalesce:
    """The user's replies in flight (``MessageQuerySet.in_flight``) as a subquery of another read."""
    rows = Message.objects.in_flight().filter(conversation__owner=OuterRef(owner_field))
    rows = rows.order_by().values("conversation__owner").annotate(n=Count("id"))
    return Coalesce(Subquery(rows.values("n")[:1]), 0)


def _check_plan_limits(
    *,
    user: User,
    conversation: Conversation,
    settings_row: UserSettings,
    known: SendChecks | None = None,
    asked: int = 0,
) -> None:
    """Raise 429 when sending would break a limit (503 when the reply could not be delivered now).
    Call with the user's settings row locked; ``known``: the counts read with that lock; ``asked``:
    replies this transaction wrote already (counted, but not held against it)."""
    generation.ensure_pipeline_ready()
    try:
        _refuse_past_limits(settings_row=settings_row, user=user, known=known, asked=asked)
    except (DailyQuotaExceeded, TooManyGenerations):
        if known is None:
            raise
        # On PostgreSQL the lock's read counted with a snapshot from before the lock was granted:
        # a reply that ended meanwhile is still in it. Refuse only on a fresh count.
        _refuse_past_limits(settings_row=settings_row, user=user, known=None, asked=asked)


def _refuse_past_limits(*, settings_row: UserSettings, user: User, known: SendChecks | None, asked: int) -> None:
    now = known.now if known is not None else timezone.now()
    plan = settings_row.plan
    if plan.daily_message_limit:  # 0: unlimited, nothing to count
        sent = known.messages_sent if known is not None else None
        usage = daily_usage(settings_row=settings_row, now=now, messages_sent=sent)
        usage = DailyUsage(usage.messages_sent - asked, usage.daily_message_limit, usage.resets_at)
        if usage.exhausted:
            raise DailyQuotaExceeded(
                ngettext(
                    "You have sent %(sent)d of %(limit)d message allowed today. "
                    "The limit resets at midnight in your time zone.",
                    "You have sent %(sent)d of %(limit)d messages allowed today. "
                    "The limit resets at midnight in your time zone.",
                    usage.daily_message_limit,
                )
                % {"sent": usage.messages_sent, "limit": usage.daily_message_limit},
                wait=max(1, int((usage.resets_at - now).total_seconds()) + 1),
            )
    # Replies on other branches of the same conversation count like any others: a tree's branches
    # share no history, so only the plan limits how many run at once.
    if known is not None:
        in_flight = known.in_flight
    else:
        in_flight = Message.objects.in_flight().filter(conversation__owner=user).count() - asked
    if in_flight >= plan.max_concurrent_generations:
        raise TooManyGenerations(
            ngettext(
                "Your plan allows %(count)d reply at a time; wait for one to finish or stop it.",
                "Your plan allows %(count)d replies at a time; wait for one to finish or stop it.",
                plan.max_concurrent_generations,
            )
            % {"count": plan.max_concurrent_generations}
        )


def _settings_locked(user: User) -> UserSettings:
    """The user's settings row, locked: it serialises one user's sends (from the app or the API),
    so two requests cannot both pass the plan's limits."""
    settings_row = UserSettings.objects.select_for_update(of=("self",)).select_related("plan").filter(user=user).first()
    if settings_row is None:  # a user created outside user_create: give them settings, then lock
        settings_row = (
            UserSettings.objects.select_for_update(of=("self",))
            .select_related("plan")
            .get(pk=user_settings_get(user=user).pk)
        )
    return settings_row


def _send_read(*, user: User, conversation_id) -> tuple[Conversation, SendChecks]:
    """The conversation a message is sent to, in one statement with all that sending checks: yours
    or nothing (``Conversation.DoesNotExist``), with its current leaf and model, the user's settings
    row locked (it serialises one user's sends, as ``_settings_locked`` does) with their plan, and
    ``SendChecks``. Today's count starts at the day's start that the signed-in user's settings give
    (read with the session); if the locked row says otherwise (a zone changed, a staff reset
    meanwhile), it is counted again. On PostgreSQL the counts and the leaf are of the read's
    snapshot, taken before the lock was granted: the leaf's UPDATE checks both again
    (``_now_current``'s ``was`` and ``within``), and a refusal is counted again first
    (``_check_plan_limits``). Call in a transaction."""
    now = timezone.now()
    try:  # authentication caches the row, or None for a user created without one
        known = user.settings if User.settings.is_cached(user) else None
    except UserSettings.DoesNotExist:
        known = None
    guess = counted_since(
        zone=saved_zone(known.time_zone if known else ""), reset_at=known.quota_reset_at if known else None, now=now
    )
    model_allowed = ExpressionWrapper(
        model_allowed_expression("model_id", "owner__settings__plan_id"), output_field=BooleanField()
    )
    conversation = (
        selectors.conversations_owned(user=user, summary=False)
        .filter(pk=conversation_id, owner__settings__isnull=False)
        .select_related("owner__settings__plan")
        .select_for_update(of=("owner__settings",))
        .annotate(
            sent_today=messages_sent_since_expression("owner_id", guess),
            in_flight=_in_flight_expression("owner_id"),
            model_allowed=model_allowed,
        )
        .first()
    )
    if conversation is None:
        if not selectors.conversations_owned(user=user, summary=False).filter(pk=conversation_id).exists():
            raise Conversation.DoesNotExist
        user_settings_get(user=user)  # a user created outside user_create: give them settings
        return _send_read(user=user, conversation_id=conversation_id)
    settings_row = conversation.owner.settings
    exact = counted_since(zone=saved_zone(settings_row.time_zone), reset_at=settings_row.quota_reset_at, now=now)
    checks = SendChecks(
        now=now,
        since=exact,
        messages_sent=conversation.sent_today if exact == guess else None,
        in_flight=conversation.in_flight,
        model_allowed=conversation.model_allowed,
    )
    return conversation, checks


def _start_after_commit(message_id) -> None:
    transaction.on_commit(lambda: generation.start_generation(message_id=message_id))


def _pending_reply(
    *,
    conversation: Conversation,
    parent: Message,
    model,
    created_at: datetime,
    generation_options: dict | None = None,
) -> Message:
    """A pending assistant reply under ``parent`` (unsaved): the generation task takes it once it
    is committed."""
    return Message(
        conversation=conversation,
        parent=parent,
        depth=parent.depth + 1,
        role=Role.ASSISTANT,
        content="",
        status=MessageStatus.PENDING,
        model=model,
        created_at=created_at,
        generation_options=generation_options or {},
    )


def _asked(*, conversation: Conversation, rows: Sequence[Message], reply: Message) -> None:
    """Save ``rows`` (``reply`` among them) in one INSERT (their ids are made here, so the ledger
    costs asking nothing more) and the reply's ledger entry: what the plan's daily limit and the
    usage figures count; deleting the conversation leaves it. Every reply asked for, whatever the
    path (a message, a regenerate, an edit, a continue, an API request), is saved here."""
    Message.objects.bulk_create(rows)
    LedgerEntry.of_reply(reply, conversation=conversation).save(force_insert=True)


def _question_and_reply(
    *,
    conversation: Conversation,
    model,
    question: str,
    parent: Message | None = None,
    generation_options: dict | None = None,
    attachments: Sequence[StoredFile] = (),
) -> tuple[Message, Message]:
    """The user's message under ``parent`` (``None``: a first message) and the pending reply to
    it, with the reply's ledger entry."""
    now = timezone.now()
    if parent is not None:  # a child is always younger than its parent, whatever the clocks say
        now = max(now, parent.created_at + timedelta(microseconds=1))
    user_message = Message(
        conversation=conversation,
        parent=parent,
        depth=parent.depth + 1 if parent is not None else 0,
        role=Role.USER,
        content=question,
        status=MessageStatus.COMPLETE,
        model=model,
        created_at=now,
        finished_at=now,
    )
    # A microsecond later, so ordering by created_at never puts the reply before the question.
    reply = _pending_reply(
        conversation=conversation,
        parent=user_message,
        model=model,
        created_at=now + timedelta(microseconds=1),
        generation_options=generation_options,
    )
    _asked(conversation=conversation, rows=[user_message, reply], reply=reply)
    if attachments:
        # Rows of the through table in the order given (its ids keep that order for the reads).
        Message.attachments.through.objects.bulk_create(
            Message.attachments.through(message_id=user_message.pk, storedfile_id=file.pk) for file in attachments
        )
    attachments_known(user_message, attachments)
    return user_message, reply


def attachments_known(message: Message, files: Sequence[StoredFile]) -> None:
    """Give ``message`` its attachments as a prefetch would (a message just made: no query to
    show them)."""
    queryset = message.attachments.all()
    queryset._result_cache = list(files)
    queryset._prefetch_done = True
    message._prefetched_objects_cache = {"attachments": queryset}


def attachments_resolve(*, user: User, file_ids: Sequence) -> list[StoredFile]:
    """The user's files named by ``file_ids``, in that order, fit to attach: all theirs (else a
    404 ``files_not_found`` naming the others), none ``failed`` (a 409 ``attachment_failed``
    naming it). Files still ``processing`` are fine: the reply waits for them."""
    ids = list(dict.fromkeys(str(file_id) for file_id in file_ids))
    if len(ids) > MAX_ATTACHMENTS:
        raise ValidationError(
            {"attachments": [_("At most %(limit)d files per message.") % {"limit": MAX_ATTACHMENTS}]},
            code="max_length",
        )
    found = {str(file.pk): file for file in StoredFile.objects.filter(owner=user, pk__in=ids)}
    missing = [file_id for file_id in ids if file_id not in found]
    if missing:
        raise ReferenceNotFound(
            _("No such files of yours: %(ids)s.") % {"ids": ", ".join(missing)}, code="files_not_found"
        )
    files = [found[file_id] for file_id in ids]
    failed = [file for file in files if file.status == FileStatus.FAILED]
    if failed:
        names = ", ".join(f"{file.name} ({file.pk}: {file.error or 'failed'})" for file in failed)
        raise Conflict(
            _("These files could not be read and cannot be attached: %(names)s. Remove them from the message.")
            % {"names": names},
            code="attachment_failed",
        )
    return files


def _check_model_reads(*, model: LLMModel, attachments: Sequence[StoredFile]) -> None:
    """Refuse images for a model without the ``vision`` capability, before any upstream call."""
    images = [file.name for file in attachments if file.is_image]
    if images and not has_capability(model, VISION):
        raise DomainError(
            _("%(model)s cannot read images (%(names)s). Choose a model that can, or remove the images.")
            % {"model": model.display_name, "names": ", ".join(images)},
            code="model_cannot_read_images",
        )


def _clean_content(content: str, *, attachments: Sequence = ()) -> str:
    # A message may be files alone (as in ChatGPT): the reply is about them.
    if attachments and isinstance(content, str) and not content.strip():
        return ""
    if not isinstance(content, str) or not content.strip():
        raise ValidationError({"content": [_("This field may not be blank.")]}, code="blank")
    limit = settings.CHAT["MAX_MESSAGE_CHARS"]
    if len(content) > limit:
        raise ValidationError(
            {"content": [_("Ensure this field has no more than %(limit)d characters.") % {"limit": limit}]},
            code="max_length",
        )
    return content


def _ask(
    *,
    conversation: Conversation,
    user: User,
    settings_row: UserSettings,
    content: str,
    model_slug: str | None,
    parent: Message | None,
    attachments: Sequence[StoredFile] = (),
    under_current: bool = False,
    counted: "window.Counted | None" = None,
    known: SendChecks | None = None,
) -> tuple[Message, Message]:
    """Pick the reply's model, check the question fits its window (``counted``: its count made
    outside the transaction, ``_counted_outside``) and the plan's limits, save the question under
    ``parent`` (with its attachments) and its pending reply, make the reply the current leaf, and
    start it after commit. ``under_current``: ``parent`` is the current leaf the caller read, which
    must still be it (``_now_current``). Call with ``settings_row`` locked, in a transaction
    (``known``: what was read with the lock, ``_send_read``)."""
    if model_slug:
        model = model_resolve(user=user, slug=model_slug, plan_id=settings_row.plan_id)
    else:
        allowed = known.model_allowed if known is not None else None
        model = model_for(user=user, preferred=conversation.model, plan_id=settings_row.plan_id, allowed=allowed)
    _check_model_reads(model=model, attachments=attachments)
    window.question_check(
        model=model,
        system=_system_text(settings_row.custom_instructions, conversation.system_prompt),
        question=content,
        counted=counted,
    )
    _check_plan_limits(user=user, conversation=conversation, settings_row=settings_row, known=known)

    user_message, assistant_message = _question_and_reply(
        conversation=conversation, model=model, question=content, parent=parent, attachments=attachments
    )
    was = (parent.pk if parent else None) if under_current else ANY
    if known is None:
        _now_current(conversation, assistant_message, model=model, was=was)
    else:
        # The counts were read in the same statement as the lock: on PostgreSQL with that
        # statement's snapshot, older than a send that held the lock just before. The UPDATE
        # counts again (its own snapshot, the lock held, this reply included) and does nothing
        # past a limit, so the plan's limits hold for sends at once, in no more statements.
        try:
            _now_current(conversation, assistant_message, model=model, was=was, within=(settings_row.plan, known))
        except Conflict:
            _check_plan_limits(user=user, conversation=conversation, settings_row=settings_row, asked=1)
            raise
    _start_after_commit(assistant_message.id)
    return user_message, assistant_message


ANY = object()  # _now_current: whatever the current leaf was


def _now_current(
    conversation: Conversation,
    reply: Message,
    *,
    model: LLMModel | None = None,
    was=ANY,
    within: tuple[Plan, SendChecks] | None = None,
) -> None:
    """``reply``, just asked for, is the conversation's current leaf (and its model the chat's),
    in one UPDATE. ``was``: the leaf the new question went under because it was the current one;
    if another tab or device moved it meanwhile (its own message sent in between, read before this
    request held the user's lock), this request is refused (409 ``conversation_changed``) rather
    than fork the chat behind the user's back. ``within``: the plan whose limits must still hold,
    ``reply`` counted (the UPDATE changes nothing otherwise; the caller says which was broken)."""
    changes = {"current_message": reply, "updated_at": timezone.now()}
    if model is not None and conversation.model_id != model.pk:
        changes["model"] = model
    rows = Conversation.objects.filter(pk=conversation.pk)
    if was is not ANY:
        rows = rows.filter(current_message_id=was) if was is not None else rows.filter(current_message__isnull=True)
    if within is not None:
        plan, known = within
        rows = rows.alias(in_flight=_in_flight_expression("owner_id"))
        rows = rows.filter(in_flight__lte=plan.max_concurrent_generations)
        if plan.daily_message_limit:
            rows = rows.alias(sent=messages_sent_since_expression("owner_id", known.since))
            rows = rows.filter(sent__lte=plan.daily_message_limit)
    if not rows.update(**changes):
        raise Conflict(
            _("This conversation changed meanwhile (a message was sent from elsewhere). Reload it and send again."),
            code="conversation_changed",
        )
    for name, value in changes.items():
        setattr(conversation, name, value)


# The default parent of a new message: the conversation's current leaf.
CURRENT = object()


def _message_of(conversation: Conversation, message_id) -> Message:
    """One message of this conversation (``MessageNotFound``, a 404, for any other id)."""
    rows = Message.objects.filter(conversation=conversation, pk=message_id).select_related("model")
    message = rows.first()
    if message is None:
        raise MessageNotFound()
    return message


def _parent_for(conversation: Conversation, parent_id) -> tuple[Message | None, bool]:
    """The message a new question goes under, and whether it is the current leaf: ``parent_id``
    (a reply of this conversation, ``None`` for a new first message, or a question that already
    has a question under it: editing that one), or by default the current leaf. A reply still
    being written cannot be answered yet (409 ``generation_in_progress``)."""
    current = conversation.current_message_id
    under_current = parent_id is CURRENT or (parent_id is not None and str(parent_id) == str(current))
    if parent_id is CURRENT and current is None:
        return None, True
    if parent_id is None:
        return None, False
    if under_current and Conversation.current_message.is_cached(conversation):  # read with it: no query
        parent = conversation.current_message
    else:
        parent = Message.objects.filter(conversation=conversation, pk=current if parent_id is CURRENT else parent_id)
        parent = parent.first()
    if parent is None:
        raise ValidationError(
            {"parent_id": [_("No message with this id in this conversation.")]}, code="parent_not_found"
        )
    # Named, it must be a reply, or a question that has a question under it already (an import's
    # tool turn left out, an older chat): editing that one. The default takes the leaf as it is.
    if parent_id is not CURRENT and parent.role != Role.ASSISTANT:
        if not parent.children.filter(role=Role.USER).exists():
            raise ValidationError(
                {"parent_id": [_("A new message goes under a reply of the assistant (or null for a first message).")]},
                code="parent_not_assistant",
            )
    if parent.status in IN_FLIGHT_STATUSES:
        raise GenerationInProgress(_("This reply is still being generated; wait for it to finish or stop it."))
    return parent, under_current


def message_send(
    *,
    conversation: Conversation | uuid.UUID | str,
    user: User,
    content: str,
    model_slug: str | None = None,
    attachments: Sequence = (),
    parent_id=CURRENT,
) -> "Sent":
    """Save the user's message under ``parent_id`` (default: the current leaf; see ``_parent_for``)
    with the files ``attachments`` names (ids of the user's files), and a pending assistant reply,
    which becomes the current leaf; then (after commit) start generating it. Editing a message is
    this with the edited message's parent: the edit is a new version beside it, which stays. A
    caller that wants the finished reply waits for it (``listener.reply_wait``). A question too
    long for the model's window alone is refused (400 ``context_length_exceeded``), counted by
    the model's tokenizer outside the transaction when the estimate says it may not fit.

    ``conversation``: the conversation or its id: it is read again, with everything sending checks,
    in one statement (``_send_read``; ``Conversation.DoesNotExist`` when it is not the user's). The
    messages come back with the conversation as it is now (``user_message.conversation``); one
    passed in is brought up to date too."""
    content = _clean_content(content, attachments=attachments)
    sent = _counted_outside(
        lambda counted: _message_send(
            conversation_id=getattr(conversation, "pk", conversation),
            user=user,
            content=content,
            model_slug=model_slug,
            attachments=attachments,
            parent_id=parent_id,
            counted=counted,
        )
    )
    if isinstance(conversation, Conversation):
        _brought_up_to_date(conversation, sent)
    return sent


def _brought_up_to_date(conversation: Conversation, sent: tuple[Message, Message]) -> None:
    """What sending changed on the conversation (read again by ``_send_read``), on ``conversation``."""
    now = sent[1].conversation
    for name in ("current_message", "model", "updated_at"):
        setattr(conversation, name, getattr(now, name))


@transaction.atomic
def _message_send(*, conversation_id, user, content, model_slug, attachments, parent_id, counted) -> "Sent":
    """``message_send`` of a cleaned ``content`` (``counted``: see ``_counted_outside``)."""
    conversation, known = _send_read(user=user, conversation_id=conversation_id)
    settings_row = conversation.owner.settings
    parent, under_current = _parent_for(conversation, parent_id)
    files = attachments_resolve(user=user, file_ids=attachments) if attachments else []
    question, reply = _ask(
        conversation=conversation,
        user=user,
        settings_row=settings_row,
        content=content,
        model_slug=model_slug,
        parent=parent,
        attachments=files,
        under_current=under_current,
        counted=counted,
        known=known,
    )
    return Sent(question, reply, new_turn=under_current)


class Sent(tuple):
    """``(question, reply)``, as every send gives them, and ``new_turn``: the question went under
    the conversation's current leaf (or is a first message), so neither message has another
    version yet (an answer needs no read of the tree to say so)."""

    new_turn: bool

    def __new__(cls, question: Message, reply: Message, *, new_turn: bool) -> "Sent":
        sent = super().__new__(cls, (question, reply))
        sent.new_turn = new_turn
        return sent

    def __getnewargs_ex__(self):  # copy and pickle call __new__ with these
        return (self[0], self[1]), {"new_turn": self.new_turn}


def _system_text(instructions: str, system_prompt: str) -> str:
    """The system prompt a reply of the app is sent (``grounding.system_prompt``'s rule)."""
    parts = ((instructions or "").strip(), (system_prompt or "").strip())
    return "\n\n".join(part for part in parts if part)


def _counted_outside(send):
    """``send(counted)``, a sending transaction: first with the question counted by the estimate
    inside it (no call to anyone, nothing more to read: the common case); when the estimate says
    the question may not fit, it stops with ``window.CountNeeded`` (rolled back, nothing saved),
    the question is counted by the model's tokenizer here, outside the transaction (an HTTP call),
    and it is sent again with that count."""
    try:
        return send(None)
    except window.CountNeeded as need:
        return send(need.counted())


def conversation_start(
    *,
    user: User,
    title: str = "",
    model_slug: str | None = None,
    system_prompt: str = "",
    message: str | None = None,
    attachments: Sequence = (),
    item_ids: Sequence[int] = (),
    tools: Sequence[str] = (),
) -> tuple[Conversation, tuple[Message, Message] | None]:
    """A new conversation with its settings (``item_ids``: its collector items), and its first
    question (with ``attachments``) and pending reply when ``message`` is given: one transaction,
    so a first message refused (a plan limit, a file, an item not yours) leaves no empty
    conversation behind. A first question too long for the model's window alone is refused as
    ``message_send`` refuses it."""
    if message is None and attachments:
        message = ""  # files alone are a first message too
    if message is not None:
        message = _clean_content(message, attachments=attachments)
    return _counted_outside(
        lambda counted: _conversation_start(
            user=user,
            title=title,
            model_slug=model_slug,
            system_prompt=system_prompt,
            message=message,
            attachments=attachments,
            item_ids=item_ids,
            tools=tools,
            counted=counted,
        )
    )


def _conversation_start(
    *, user, title, model_slug, system_prompt, message, attachments, item_ids, tools, counted
) -> tuple[Conversation, tuple[Message, Message] | None]:
    with transaction.atomic():
        conversation = conversation_create(
            user=user, title=title, model_slug=model_slug, system_prompt=system_prompt, tools=tools
        )
        if item_ids:  # before the message: its reply is grounded on them
            conversation_context_set(user=user, conversation=conversation, item_ids=item_ids)
        sent = None
        if message is not None:
            sent = _message_send(
                conversation_id=conversation.pk,
                user=user,
                content=message,
                model_slug=None,
                attachments=attachments,
                parent_id=CURRENT,
                counted=counted,
            )
            _brought_up_to_date(conversation, sent)
        return conversation, sent


@transaction.atomic
def message_regenerate(
    *, conversation: Conversation, user: User, message_id, model_slug: str | None = None
) -> tuple[Message, Message]:
    """A new version of the reply ``message_id`` (any assistant message of the conversation): a
    sibling under the same question, generated from the path above it, which becomes the current
    leaf. The reply it replaces stays, one step away (``sibling_ids``). A reply asked for like any
    other (the plan's limits, the day's quota). Returns (the question, the new reply)."""
    settings_row = _settings_locked(user)
    rows = Message.objects.filter(conversation=conversation, pk=message_id)
    reply = rows.select_related("model", "parent__model").first()
    if reply is None:
        raise MessageNotFound()
    if reply.role != Role.ASSISTANT:
        raise Conflict(_("Only a reply of the assistant can be generated again."), code="not_assistant_message")
    if reply.status in IN_FLIGHT_STATUSES:
        raise GenerationInProgress(_("This reply is still being generated; wait for it to finish or stop it."))
    return _regenerate(
        conversation=conversation, user=user, settings_row=settings_row, reply=reply, model_slug=model_slug
    )


def _regenerate(
    *, conversation: Conversation, user: User, settings_row: UserSettings, reply: Message, model_slug: str | None
) -> tuple[Message, Message]:
    """``message_regenerate`` of ``reply`` (an assistant message not in flight, its parent at
    hand), with ``settings_row`` locked, in a transaction."""
    if reply.parent is None:
        raise NothingToRegenerate()
    return _reply_to(
        conversation=conversation, user=user, settings_row=settings_row, parent=reply.parent, model_slug=model_slug
    )


def _reply_to(
    *, conversation: Conversation, user: User, settings_row: UserSettings, parent: Message, model_slug: str | None
) -> tuple[Message, Message]:
    """A new reply under ``parent`` (a question; a cut reply for a continuation's new version),
    made the current leaf and started after commit: a regenerate's new version, or the first
    answer to a question left without one (an imported chat ending with a question)."""
    if model_slug:
        model = model_resolve(user=user, slug=model_slug, plan_id=settings_row.plan_id)
    else:
        model = model_for(user=user, preferred=conversation.model, plan_id=settings_row.plan_id)
    _check_plan_limits(user=user, conversation=conversation, settings_row=settings_row)
    # A continuation's new version goes on from the same cut reply (its parent).
    options = {CONTINUES: str(parent.pk)} if parent.role == Role.ASSISTANT else {}
    created_at = max(timezone.now(), parent.created_at + timedelta(microseconds=1))
    reply = _pending_reply(
        conversation=conversation, parent=parent, model=model, created_at=created_at, generation_options=options
    )
    _asked(conversation=conversation, rows=[reply], reply=reply)
    _now_current(conversation, reply, model=model)
    _start_after_commit(reply.id)
    return parent, reply


def _active_question(conversation: Conversation) -> tuple[Message | None, Message | None]:
    """The last question on the active path, and the message after it there (if any)."""
    _skeleton, path = tree.active_path(conversation)
    rows = Message.objects.filter(pk__in=path, role=Role.USER).select_related("model")
    question = rows.order_by("-created_at", "-id").first()
    if question is None:
        return None, None
    index = path.index(str(question.pk))
    after = None
    if index + 1 < len(path):
        # The reply with its question at hand (a regenerate of it reads no more).
        after = Message.objects.filter(pk=path[index + 1]).select_related("model").first()
        if after is not None:
            after.parent = question
    return question, after


def message_resend(
    *,
    conversation: Conversation,
    user: User,
    message_id=None,
    content: str | None = None,
    model_slug: str | None = None,
) -> tuple[Message, Message]:
    """The older operations on the last turn (``POST .../regenerate`` and ``.../edit``): answer the
    active path's last question again (``content=None``) or edit it (``content``: its new text).

    A regenerate is ``message_regenerate`` of that question's reply (its first, if it has none on
    the path: a new one); an edit is ``message_send`` under the question's parent, keeping its
    files. Nothing is replaced: the earlier versions stay, as siblings. ``message_id`` names the
    question (``None``: the last one) and must be the last one (409 ``not_last_message``); as
    before, nothing is resent while a reply of the conversation is in flight (409). An edit too
    long for the model's window alone is refused, as a new message is (``message_send``).
    """
    if content is not None:
        content = _clean_content(content)
    return _counted_outside(
        lambda counted: _message_resend(
            conversation=conversation,
            user=user,
            message_id=message_id,
            content=content,
            model_slug=model_slug,
            counted=counted,
        )
    )


@transaction.atomic
def _message_resend(*, conversation, user, message_id, content, model_slug, counted) -> tuple[Message, Message]:
    """``message_resend`` of a cleaned ``content`` (``counted``: see ``_counted_outside``)."""
    settings_row = _settings_locked(user)  # one user's sends are serialised
    question, reply = _active_question(conversation)
    if message_id is None:
        if question is None:
            raise NothingToRegenerate()
    else:
        _message_of(conversation, message_id)
        if question is None or str(question.pk) != str(message_id):
            raise NotLastMessage()
    if message_in_flight(conversation=conversation) is not None:
        raise GenerationInProgress()
    if content is None and reply is not None and reply.role == Role.ASSISTANT:
        return _regenerate(
            conversation=conversation, user=user, settings_row=settings_row, reply=reply, model_slug=model_slug
        )
    # The new turn keeps the question's files (an edit changes its text, not what it showed);
    # one that failed since is left out rather than refusing the resend.
    files = [file for file in question.attachments.order_by("created_at", "id") if file.status != FileStatus.FAILED]
    if content is None:  # a question without a reply: answer it
        return _reply_to(
            conversation=conversation, user=user, settings_row=settings_row, parent=question, model_slug=model_slug
        )
    return _ask(
        conversation=conversation,
        user=user,
        settings_row=settings_row,
        content=content,
        model_slug=model_slug,
        parent=question.parent,
        attachments=files,
        counted=counted,
    )


def conversation_switch(*, conversation: Conversation, message_id) -> Conversation:
    """Show another version: the active path goes through ``message_id`` (any message of the
    conversation) and on down its newest descendants. Nothing is written but the pointer; the
    conversation's last activity stays (stepping through versions is reading, not writing)."""
    skeleton = tree.Skeleton.of(conversation.pk)
    if message_id not in skeleton:
        raise ValidationError(
            {"current_message_id": [_("No message with this id in this conversation.")]}, code="message_not_found"
        )
    leaf = skeleton.newest_leaf(message_id)
    Conversation.objects.filter(pk=conversation.pk).update(current_message_id=leaf)
    conversation.current_message_id = leaf
    return conversation


@transaction.atomic
def conversation_branch(*, conversation: Conversation, user: User, message_id) -> Conversation:
    """ "Branch in new chat": a new conversation of ``user`` holding a copy of the path from the
    root down to ``message_id`` (its texts, times, files, sources, models and the chat's
    settings), current at its copy of that message. The original is not touched. A reply still
    being written cannot be copied yet (409)."""
    message = _message_of(conversation, message_id)
    if message.status in IN_FLIGHT_STATUSES:
        raise GenerationInProgress(_("This reply is still being generated; branch from it once it has finished."))
    skeleton = tree.Skeleton.of(conversation.pk)
    path = skeleton.path(message.pk)
    rows = {
        str(m.pk): m
        for m in Message.objects.filter(pk__in=path).select_related("model").prefetch_related("attachments")
    }
    past = [
        PastMessage(
            role=m.role,
            content=m.content,
            created_at=m.created_at,
            model=m.model,
            status=m.status,
            finish_reason=m.finish_reason,
            sources=m.sources,
            attachments=tuple(f.pk for f in m.attachments.all()),
        )
        for m in (rows[pk] for pk in path)
    ]
    branch = conversation_create_from_history(
        owner=user,
        title=_("%(title)s (branch)") % {"title": conversation.title} if conversation.title else "",
        messages=past,
        count=len(past),
        model=conversation.model,
        system_prompt=conversation.system_prompt,
        origin_kind=OriginKind.BRANCH,
        origin_id=str(conversation.pk),
        updated_at=timezone.now(),
    )
    branch.context_items.set(conversation.context_items.filter(owner_id=user.pk))
    return branch


# What a continuation's ``generation_options`` hold: the id of the reply it goes on from (the
# runner then asks the model to go on from it, ``llm.context.build_messages``).
CONTINUES = "continues"
# Why a model stopped when it reached its output limit (OpenAI's word, used by every upstream).
FINISH_LENGTH = "length"


@transaction.atomic
def reply_continue(*, conversation: Conversation, user: User, message_id) -> Message:
    """Go on with a reply cut at the model's output limit: a new pending reply under it (the cut
    one stays as it is), generated from its path with the cut reply as its last turn, made the
    current leaf and started after commit. It is a reply asked for like any other: the same plan
    limits, one message of the day's quota, the same stream.

    Only a reply nothing follows yet can be continued, and only one that ended ``complete`` with
    ``finish_reason`` ``length``; anything else is 409 with a code saying which
    (``NotContinuable``). The reply's model goes on writing it while the plan allows it.
    """
    settings_row = _settings_locked(user)  # one user's sends are serialised (the limits, the order)
    cut = _message_of(conversation, message_id)
    if cut.role != Role.ASSISTANT:
        raise NotContinuable("not_assistant_message")
    if cut.status in IN_FLIGHT_STATUSES:
        raise GenerationInProgress()
    if Message.objects.filter(parent=cut).exists():
        raise NotContinuable("not_last_message")
    if cut.status != MessageStatus.COMPLETE or cut.finish_reason != FINISH_LENGTH:
        raise NotContinuable("not_cut_off")
    model = model_for(user=user, preferred=cut.model or conversation.model, plan_id=settings_row.plan_id)
    _check_plan_limits(user=user, conversation=conversation, settings_row=settings_row)
    # After the cut reply whatever the clocks say: a path is ordered by created_at.
    created_at = max(timezone.now(), cut.created_at + timedelta(microseconds=1))
    reply = _pending_reply(
        conversation=conversation,
        parent=cut,
        model=model,
        created_at=created_at,
        generation_options={CONTINUES: str(cut.pk)},
    )
    _asked(conversation=conversation, rows=[reply], reply=reply)
    _now_current(conversation, reply)
    _start_after_commit(reply.id)
    return reply


def _check_api_images(*, model: LLMModel, model_slug: str, images: int) -> None:
    if images and not has_capability(model, VISION):
        raise DomainError(
            _(
                "The model '%(model)s' cannot read images: send image_url parts to a model whose capabilities "
                "include vision (GET /v1/models)."
            )
            % {"model": model_slug},
            code="model_cannot_read_images",
        )


def _check_api_capabilities(*, model: LLMModel, model_slug: str, needs: dict[str, str]) -> None:
    """``needs``: {capability: the parameter that asks for it}. A model without one is refused
    naming the parameter: an upstream that ignored it would answer something else than asked."""
    for capability, param in needs.items():
        if not has_capability(model, capability) and param == "messages":  # tool turns in the history
            raise UnsupportedParameter(
                _(
                    "The model '%(model)s' cannot read tool calls and tool results in messages (its capabilities "
                    "in GET /v1/models do not include tools)."
                )
                % {"model": model_slug},
                param=param,
            )
        if not has_capability(model, capability):
            raise UnsupportedParameter(
                _(
                    "The model '%(model)s' does not support %(param)s (its capabilities in GET /v1/models do not "
                    "include %(capability)s)."
                )
                % {"model": model_slug, "param": param, "capability": capability},
                param=param,
            )


def api_model_check(*, user: User, model_slug: str, images: int, needs: dict[str, str] | None = None) -> LLMModel:
    """The model an OpenAI-compatible request names, refused as ``api_completion_start`` would
    (unknown, not in the plan, no vision for its ``images``, no capability its parameters
    ``needs``), before the request's images are decoded: a request a model cannot take costs no
    decoding."""
    model = model_resolve(user=user, slug=model_slug)
    _check_api_images(model=model, model_slug=model_slug, images=images)
    _check_api_capabilities(model=model, model_slug=model_slug, needs=needs or {})
    return model


@transaction.atomic
def api_completion_start(
    *,
    user: User,
    api_key,
    model_slug: str,
    system: str,
    turns: list[dict],
    options: dict,
    needs: dict[str, str] | None = None,
) -> Message:
    """Start the reply to one OpenAI-compatible request and return it (pending).

    Each request is a conversation of its own whose source is the key: the same plan limits
    (its last user turn is the day's message sent) and usage figures as the app, hidden from the
    app's lists. The request's turns and options travel in the reply's ``generation_options``;
    with ``CHAT_API_KEEP_CONTENT`` off they are blanked as soon as a worker claims the reply.
    """
    settings_row = _settings_locked(user)
    model = model_resolve(user=user, slug=model_slug, plan_id=settings_row.plan_id)
    _check_api_images(model=model, model_slug=model_slug, images=sum(image_count(t["content"]) for t in turns))
    _check_api_capabilities(model=model, model_slug=model_slug, needs=needs or {})
    # As OpenAI: a request that does not fit the model's window is refused, not cut (the app,
    # which owns its history, drops its oldest turns instead). Counted by the model's tokenizer
    # before this transaction (``window.api_fit_counted``, ``options["prompt_tokens"]``), checked
    # again here against the model as it is now; a caller that did not count gets the estimate.
    prompt_tokens = options.get("prompt_tokens")
    if prompt_tokens is None:
        prompt_tokens = window.api_estimate(model=model, system=system, turns=turns, upstream=options.get("upstream"))
    fit = window.api_fit(model=model, prompt_tokens=prompt_tokens, max_tokens=options.get("max_tokens"))
    options = {**options, "max_tokens": fit.max_tokens, "prompt_tokens": fit.prompt_tokens}
    conversation = Conversation.objects.create(
        owner=user,
        model=model,
        api_key=api_key,
        origin_kind=OriginKind.API,
        # A title of its own, so no title is made from what was said.
        title=title_fit(f"API: {api_key.name}", max_length=TITLE_MAX_CHARS),
    )
    _check_plan_limits(user=user, conversation=conversation, settings_row=settings_row)
    question = next((content_text(turn["content"]) for turn in reversed(turns) if turn["role"] == Role.USER), "")
    _question, reply = _question_and_reply(
        conversation=conversation,
        model=model,
        question=question,
        generation_options={**options, "system": system, "messages": turns},
    )
    # One request, one line: its question and reply, the reply its leaf.
    Conversation.objects.filter(pk=conversation.pk).update(current_message=reply)
    _start_after_commit(reply.id)
    return reply


def message_in_flight(*, conversation: Conversation) -> Message | None:
    """The reply in flight on the active path, else the newest one in flight on any branch."""
    in_flight = list(Message.objects.in_flight().filter(conversation=conversation).order_by("-created_at", "-id"))
    if len(in_flight) > 1:
        _skeleton, path = tree.active_path(conversation)
        on_path = [m for m in in_flight if str(m.pk) in path]
        return (on_path or in_flight)[0]
    return in_flight[0] if in_flight else None


def generation_stop(*, conversation: Conversation, message_id=None) -> Message:
    """Ask the engine (in whichever process runs it) to stop a reply being generated: ``message_id``
    (a reply of this conversation), or the one ``message_in_flight`` picks."""
    if message_id is None:
        message = message_in_flight(conversation=conversation)
    else:
        message = Message.objects.in_flight().filter(conversation=conversation, pk=message_id).first()
        if message is None:
            _message_of(conversation, message_id)  # 404 when it is not this conversation's
    if message is None:
        raise NothingInFlight()
    generation.request_stop(message_id=message.id)
    message.refresh_from_db()
    return message


# --- feedback ---------------------------------------------------------------------------------


@transaction.atomic
def feedback_set(*, user: User, message: Message, rating: str, comment: str = "") -> tuple[Feedback, bool]:
    """One rating per user and message; posting again changes it. Returns (feedback, created)."""
    if rating not in Rating.values:
        raise ValidationError(
            {"rating": [_("Must be one of: %(choices)s.") % {"choices": ", ".join(Rating.values)}]},
            code="invalid_choice",
        )
    if message.role != Role.ASSISTANT:
        raise ValidationError({"message_id": [_("Only replies of the assistant can be rated.")]}, code="not_assistant")
    comment = (comment or "").strip()
    if len(comment) > FEEDBACK_COMMENT_MAX_CHARS:
        raise ValidationError(
            {
                "comment": [
                    _("Ensure this field has no more than %(limit)d characters.")
                    % {"limit": FEEDBACK_COMMENT_MAX_CHARS}
                ]
            },
            code="max_length",
        )
    feedback, created = Feedback.objects.select_for_update().get_or_create(
        user=user, message=message, defaults={"rating": rating, "comment": comment}
    )
    if not created:
        save_changed(feedback, rating=rating, comment=comment)
    return feedback, created


# --- the model catalog ------------------------------------------------------------------------


def models_enable(*, models) -> int:
    """Enable the disabled ones among ``models``; returns how many."""
    return models.filter(enabled=False).update(enabled=True)


def models_disable(*, models) -> int:
    """Disable the enabled ones among ``models`` but the default, which stays enabled until another
    model is made the default; returns how many."""
    return models.filter(enabled=True, is_default=False).update(enabled=False)


@transaction.atomic
def model_make_default(*, model: LLMModel) -> list[LLMModel]:
    """Make ``model`` the default, enabling it; returns the models that were the default."""
    # One default at most (a unique constraint): clear the old one first.
    previous = list(LLMModel.objects.filter(is_default=True).exclude(pk=model.pk))
    LLMModel.objects.filter(is_default=True).exclude(pk=model.pk).update(is_default=False)
    LLMModel.objects.filter(pk=model.pk).update(is_default=True, enabled=True)
    return previous


def model_capabilities_add(*, model: LLMModel, names: list[str]) -> list[str]:
    """Add the capabilities ``names`` (an upstream said them) to the model's; returns the ones that
    were new. Nothing is taken away: staff may know better than the upstream."""
    added = [name for name in capabilities_clean(names) if name not in (model.capabilities or [])]
    if added:
        model.capabilities = capabilities_clean([*(model.capabilities or []), *added])
        model.save(update_fields=["capabilities", "updated_at"])
    return added


@transaction.atomic
def model_add(
    *,
    slug: str,
    base_url: str,
    upstream_model: str,
    api_key_env: str | None = None,
    capabilities: list[str] | None = None,
    context_window: int | None = None,
    max_output_tokens: int | None = None,
    display_name: str | None = None,
) -> tuple[LLMModel, bool]:
    """Add an OpenAI-compatible model to the catalog, or update the one with this slug (only what is
    given changes). The admin's rules apply (``full_clean``: the URL, the key variable, the
    capabilities). Returns (model, created)."""
    model = LLMModel.objects.select_for_update().filter(slug=slug).first()
    created = model is None
    if created:
        model = LLMModel(slug=slug, provider="openai", display_name=display_name or slug)
    changes: dict = {"base_url": base_url, "upstream_model": upstream_model}
    for name, value in (
        ("api_key_env", api_key_env),
        ("capabilities", capabilities),
        ("context_window", context_window),
        ("max_output_tokens", max_output_tokens),
        ("display_name", display_name),
    ):
        if value is not None:
            changes[name] = value
    for name, value in changes.items():
        setattr(model, name, value)
    model.full_clean()
    model.save()
    return model, created
