"""Writes for conversations: keyword-only, transactional, validating before saving.

The generation itself belongs to ``conversations.generation``; this module only creates the rows the
engine works on and hands it the assistant message id after the transaction commits.
"""

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User, UserSettings
from accounts.services import user_settings_get
from collector.models import Item
from core.exceptions import Conflict, DomainError, ReferenceNotFound
from core.services import save_changed
from core.titles import title_clean, title_fit
from files.models import FileStatus, StoredFile
from files.services import files_delete_unreferenced

from . import generation
from .capabilities import VISION, has_capability
from .exceptions import (
    DailyQuotaExceeded,
    GenerationInProgress,
    MessageNotFound,
    NotContinuable,
    NothingInFlight,
    NothingToRegenerate,
    NotLastMessage,
    TooManyGenerations,
)
from .images import content_text, image_count
from .llm.context import content_tokens, estimate_tokens
from .model_choice import model_for, model_resolve
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
from .quota import daily_usage

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


@transaction.atomic
@dataclass(frozen=True)
class PastMessage:
    """A message of a conversation made from history (a clone, an import): as it was."""

    role: str
    content: str
    created_at: datetime | None = None  # None: right after the one before
    model: LLMModel | None = None
    status: str = MessageStatus.COMPLETE
    finish_reason: str = ""
    superseded: bool = False
    sources: list = field(default_factory=list)
    attachments: tuple = ()  # ids of the owner's StoredFiles (an import's restored files)


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
) -> Conversation:
    """A conversation of ``owner`` holding past messages, ready to be continued (a share's or a
    sample's clone, an imported one). The one time rule for all: messages keep their times, made
    strictly increasing in the given order; those without one follow the one before; with no time
    at all (a clone) the ``count`` messages end now, so the owner's next message sorts after them.
    The conversation starts at ``created_at`` (else its first message) and was last active at
    ``updated_at`` (else its last message). Nothing here is a reply asked for: no ledger entry, no
    quota. Call inside a transaction; ``messages`` is read once, a batch at a time."""
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
    )
    first = last = None
    timed = _in_time_order(messages, start=start)
    while batch := list(itertools.islice(timed, HISTORY_BATCH)):
        rows = [
            Message(
                conversation=conversation,
                role=m.role,
                content=m.content,
                status=m.status,
                model=m.model,
                finish_reason=m.finish_reason,
                superseded=m.superseded,
                sources=m.sources,
                created_at=moment,
                finished_at=moment,
            )
            for m, moment in batch
        ]
        Message.objects.bulk_create(rows)
        # The ids are made here (uuid4), so the attachments' rows need no read back.
        Message.attachments.through.objects.bulk_create(
            Message.attachments.through(message_id=row.pk, storedfile_id=file_id)
            for row, (m, _) in zip(rows, batch, strict=True)
            for file_id in dict.fromkeys(m.attachments)
        )
        first = first or batch[0][1]
        last = batch[-1][1]
    changes = {"updated_at": updated_at or last or conversation.created_at}
    if created_at is None and first is not None and first != conversation.created_at:
        changes["created_at"] = first
    # updated_at is auto_now: an UPDATE is the way to keep the history's time.
    Conversation.objects.filter(pk=conversation.pk).update(**changes)
    return conversation


def conversation_create(
    *, user: User, title: str = "", model_slug: str | None = None, system_prompt: str = ""
) -> Conversation:
    model = model_resolve(user=user, slug=model_slug)
    return Conversation.objects.create(
        owner=user,
        title=title_clean(title, max_length=TITLE_MAX_CHARS),
        model=model,
        system_prompt=_clean_system_prompt(system_prompt),
    )


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
) -> Conversation:
    """Change what was given. ``model_slug=None`` explicitly resets the model to the default."""
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
    save_changed(conversation, **changes)
    return conversation


def replies_stop(*, replies) -> int:
    """End the replies in flight among ``replies`` (a Message queryset) because their rows are going
    away (a conversation or an account deleted): their ledger entries end ``stopped`` now, and
    their workers are told to stop once the deletion has committed (a worker's own final save
    then finds no row). Call before deleting the rows, inside the deletion's transaction."""
    message_ids = list(replies.in_flight().values_list("id", flat=True))
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


def _check_plan_limits(*, user: User, conversation: Conversation, settings_row: UserSettings) -> None:
    """Raise 429/409 when sending would break a limit (503 when the reply could not be delivered
    now). Call with the user's settings row locked."""
    generation.ensure_pipeline_ready()
    now = timezone.now()
    plan = settings_row.plan
    if plan.daily_message_limit:  # 0: unlimited, nothing to count
        usage = daily_usage(settings_row=settings_row, now=now)
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
    in_flight = Message.objects.in_flight().filter(conversation__owner=user).values_list("conversation_id", flat=True)
    in_flight_conversations = list(in_flight)
    if len(in_flight_conversations) >= plan.max_concurrent_generations:
        raise TooManyGenerations(
            ngettext(
                "Your plan allows %(count)d reply at a time; wait for one to finish or stop it.",
                "Your plan allows %(count)d replies at a time; wait for one to finish or stop it.",
                plan.max_concurrent_generations,
            )
            % {"count": plan.max_concurrent_generations}
        )
    if conversation.pk in in_flight_conversations:
        # Two replies racing in one conversation would interleave its history.
        raise GenerationInProgress()


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


def _start_after_commit(message_id) -> None:
    transaction.on_commit(lambda: generation.start_generation(message_id=message_id))


def _pending_reply(
    *, conversation: Conversation, model, created_at: datetime, generation_options: dict | None = None
) -> Message:
    """A pending assistant reply (unsaved): the generation task takes it once it is committed."""
    return Message(
        conversation=conversation,
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
    generation_options: dict | None = None,
    attachments: Sequence[StoredFile] = (),
) -> tuple[Message, Message]:
    """The user's message and the pending reply to it, with the reply's ledger entry."""
    now = timezone.now()
    user_message = Message(
        conversation=conversation,
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
    attachments: Sequence[StoredFile] = (),
) -> tuple[Message, Message]:
    """Pick the reply's model, check the plan's limits, save the question (with its attachments)
    and its pending reply, and start it after commit. Call with ``settings_row`` locked, in a
    transaction."""
    if model_slug:
        model = model_resolve(user=user, slug=model_slug, plan_id=settings_row.plan_id)
    else:
        model = model_for(user=user, preferred=conversation.model, plan_id=settings_row.plan_id)
    _check_model_reads(model=model, attachments=attachments)
    _check_plan_limits(user=user, conversation=conversation, settings_row=settings_row)

    user_message, assistant_message = _question_and_reply(
        conversation=conversation, model=model, question=content, attachments=attachments
    )
    fields = ["updated_at"]
    if conversation.model_id != model.pk:
        conversation.model = model
        fields.append("model")
    conversation.save(update_fields=fields)

    _start_after_commit(assistant_message.id)
    return user_message, assistant_message


@transaction.atomic
def message_send(
    *,
    conversation: Conversation,
    user: User,
    content: str,
    model_slug: str | None = None,
    attachments: Sequence = (),
) -> tuple[Message, Message]:
    """Save the user's message (with the files ``attachments`` names: ids of the user's files) and
    a pending assistant reply, then (after commit) start generating it. A caller that wants the
    finished reply waits for it (``listener.reply_wait``)."""
    content = _clean_content(content, attachments=attachments)
    settings_row = _settings_locked(user)
    files = attachments_resolve(user=user, file_ids=attachments) if attachments else []
    return _ask(
        conversation=conversation,
        user=user,
        settings_row=settings_row,
        content=content,
        model_slug=model_slug,
        attachments=files,
    )


@transaction.atomic
def conversation_start(
    *,
    user: User,
    title: str = "",
    model_slug: str | None = None,
    system_prompt: str = "",
    message: str | None = None,
    attachments: Sequence = (),
    item_ids: Sequence[int] = (),
) -> tuple[Conversation, tuple[Message, Message] | None]:
    """A new conversation with its settings (``item_ids``: its collector items), and its first
    question (with ``attachments``) and pending reply when ``message`` is given: one transaction,
    so a first message refused (a plan limit, a file, an item not yours) leaves no empty
    conversation behind."""
    conversation = conversation_create(user=user, title=title, model_slug=model_slug, system_prompt=system_prompt)
    if item_ids:  # before the message: its reply is grounded on them
        conversation_context_set(user=user, conversation=conversation, item_ids=item_ids)
    if message is None and attachments:
        message = ""  # files alone are a first message too
    sent = (
        None
        if message is None
        else message_send(conversation=conversation, user=user, content=message, attachments=attachments)
    )
    return conversation, sent


def _last_question(*, conversation: Conversation) -> Message | None:
    """The conversation's last user message still part of it (not superseded)."""
    return (
        Message.objects.filter(conversation=conversation, role=Role.USER, superseded=False)
        .order_by("-created_at", "-id")
        .first()
    )


@transaction.atomic
def message_resend(
    *,
    conversation: Conversation,
    user: User,
    message_id=None,
    content: str | None = None,
    model_slug: str | None = None,
) -> tuple[Message, Message]:
    """Ask the conversation's last question again: regenerate its reply (``content=None``: the
    same text) or edit it (``content``: the new text).

    Nothing is deleted: that user message and everything after it are marked superseded (hidden
    from the conversation, kept in the database), then a new user message and its pending reply
    are made exactly as ``message_send`` makes them (same limits; it costs one message of the
    day's quota). ``message_id`` names the question (``None``: the last one); it must be the last
    user message not superseded.
    """
    if content is not None:
        content = _clean_content(content)
    # Locked first: one user's sends and resends are serialised, so two cannot both supersede.
    settings_row = _settings_locked(user)
    question = _last_question(conversation=conversation)
    if message_id is None:
        if question is None:
            raise NothingToRegenerate()
    else:
        if not Message.objects.filter(conversation=conversation, pk=message_id).exists():
            raise MessageNotFound()
        if question is None or str(question.pk) != str(message_id):
            raise NotLastMessage()
    if message_in_flight(conversation=conversation) is not None:
        # Superseding a reply still being written would leave its worker writing a hidden row.
        raise GenerationInProgress()
    # The question and every message after it (ordered by created_at, then id).
    later = Q(created_at__gt=question.created_at) | Q(created_at=question.created_at, id__gte=question.pk)
    Message.objects.filter(later, conversation=conversation, superseded=False).update(
        superseded=True, updated_at=timezone.now()
    )
    # The new turn keeps the question's files (an edit changes its text, not what it showed);
    # one that failed since is left out rather than refusing the regenerate.
    files = [file for file in question.attachments.order_by("created_at", "id") if file.status != FileStatus.FAILED]
    return _ask(
        conversation=conversation,
        user=user,
        settings_row=settings_row,
        content=question.content if content is None else content,
        model_slug=model_slug,
        attachments=files,
    )


# What a continuation's ``generation_options`` hold: the id of the reply it goes on from (the
# runner then asks the model to go on from it, ``llm.context.build_messages``).
CONTINUES = "continues"
# Why a model stopped when it reached its output limit (OpenAI's word, used by every upstream).
FINISH_LENGTH = "length"


@transaction.atomic
def reply_continue(*, conversation: Conversation, user: User, message_id) -> Message:
    """Go on with the conversation's last reply, cut at the model's output limit: a new pending
    reply after it (nothing is superseded; the cut one stays as it is), generated from the history
    with the cut reply as its last turn, and started after commit. It is a reply asked for like
    any other: the same plan limits, one message of the day's quota, the same stream.

    Only the last message (not superseded) can be continued, only a reply, and only one that
    ended ``complete`` with ``finish_reason`` ``length``; anything else is 409 with a code saying
    which (``NotContinuable``). The reply's model goes on writing it while the plan allows it.
    """
    settings_row = _settings_locked(user)  # one user's sends are serialised (the limits, the order)
    cut = Message.objects.filter(conversation=conversation, pk=message_id).select_related("model").first()
    if cut is None:
        raise MessageNotFound()
    if message_in_flight(conversation=conversation) is not None:
        raise GenerationInProgress()
    if cut.role != Role.ASSISTANT:
        raise NotContinuable("not_assistant_message")
    last = Message.objects.filter(conversation=conversation, superseded=False).order_by("-created_at", "-id").first()
    if cut.superseded or last is None or last.pk != cut.pk:
        raise NotContinuable("not_last_message")
    if cut.status != MessageStatus.COMPLETE or cut.finish_reason != FINISH_LENGTH:
        raise NotContinuable("not_cut_off")
    model = model_for(user=user, preferred=cut.model or conversation.model, plan_id=settings_row.plan_id)
    _check_plan_limits(user=user, conversation=conversation, settings_row=settings_row)
    # After the cut reply whatever the clocks say: the history is ordered by created_at.
    created_at = max(timezone.now(), cut.created_at + timedelta(microseconds=1))
    reply = _pending_reply(
        conversation=conversation, model=model, created_at=created_at, generation_options={CONTINUES: str(cut.pk)}
    )
    _asked(conversation=conversation, rows=[reply], reply=reply)
    conversation.save(update_fields=["updated_at"])
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


def api_model_check(*, user: User, model_slug: str, images: int) -> LLMModel:
    """The model an OpenAI-compatible request names, refused as ``api_completion_start`` would
    (unknown, not in the plan, no vision for its ``images``), before the request's images are
    decoded: a request a model cannot take costs no decoding."""
    model = model_resolve(user=user, slug=model_slug)
    _check_api_images(model=model, model_slug=model_slug, images=images)
    return model


@transaction.atomic
def api_completion_start(
    *, user: User, api_key, model_slug: str, system: str, turns: list[dict], options: dict
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
    # As OpenAI: a request that does not fit the model's window is refused, not cut (the app,
    # which owns its history, drops its oldest turns instead).
    prompt_tokens = sum(content_tokens(turn["content"]) for turn in turns) + estimate_tokens(system)
    if prompt_tokens >= model.context_window:
        raise DomainError(
            _(
                "This model's context window is %(window)d tokens; the messages take about %(tokens)d. "
                "Send fewer or shorter messages."
            )
            % {"window": model.context_window, "tokens": prompt_tokens},
            code="context_length_exceeded",
        )
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
    _start_after_commit(reply.id)
    return reply


def message_in_flight(*, conversation: Conversation) -> Message | None:
    return Message.objects.in_flight().filter(conversation=conversation).order_by("-created_at", "-id").first()


def generation_stop(*, conversation: Conversation) -> Message:
    """Ask the engine (in whichever process runs it) to stop the reply being generated."""
    message = message_in_flight(conversation=conversation)
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
