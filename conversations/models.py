import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy


class Provider(models.TextChoices):
    OPENAI = "openai", gettext_lazy("OpenAI-compatible")
    LOCAL = "local", gettext_lazy("Local (llama.cpp server)")


class LLMModel(models.Model):
    """A model users can pick. API keys are read from the env var named here, never stored."""

    slug = models.SlugField(max_length=64, unique=True)
    display_name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    provider = models.CharField(max_length=10, choices=Provider.choices)
    upstream_model = models.CharField(
        max_length=200,
        help_text=gettext_lazy("Model name sent upstream (for the local provider, the model server's alias)."),
    )
    base_url = models.URLField(
        max_length=500,
        blank=True,
        help_text=gettext_lazy(
            "OpenAI-compatible base URL, e.g. .../v1 (local provider: blank means CHAT_LOCAL_MODEL_URL)."
        ),
    )
    api_key_env = models.CharField(
        max_length=100, blank=True, help_text=gettext_lazy("Name of the environment variable holding the API key.")
    )
    context_window = models.PositiveIntegerField(
        default=2048, help_text=gettext_lazy("Tokens the model can attend to.")
    )
    # What the model honours beyond text: "vision", "structured_output", "tools", "logprobs"
    # (conversations.capabilities lists the known ones and what each means).
    capabilities = models.JSONField(default=list, blank=True)
    max_output_tokens = models.PositiveIntegerField(default=512)
    temperature = models.FloatField(default=0.7)
    request_timeout_seconds = models.FloatField(default=60.0)
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)
    plans = models.ManyToManyField(
        "accounts.Plan",
        blank=True,
        related_name="models",
        help_text=gettext_lazy("Plans that may use it; none means every plan."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = gettext_lazy("LLM models")
        ordering = ("order", "id")
        verbose_name = gettext_lazy("LLM model")
        constraints = [
            models.UniqueConstraint(fields=("is_default",), condition=Q(is_default=True), name="one_default_model")
        ]

    def __str__(self) -> str:
        return self.display_name

    def clean(self):
        super().clean()
        # Imported here: the providers (and their SDK) are not needed to load the models.
        from .llm.keys import api_key_env_problem

        problem = api_key_env_problem(self.api_key_env)
        if problem:
            raise ValidationError({"api_key_env": problem})
        from .capabilities import capabilities_clean, capabilities_problem

        problem = capabilities_problem(self.capabilities)
        if problem:
            raise ValidationError({"capabilities": problem})
        self.capabilities = capabilities_clean(self.capabilities)


class Prompt(models.Model):
    """A suggested prompt shown to users (public catalog)."""

    title = models.CharField(max_length=120)
    text = models.TextField(max_length=4000)
    category = models.CharField(max_length=60, blank=True)
    # Shown to people who read this language ("" = to everyone): a Korean reader is not offered
    # English starters.
    language = models.CharField(
        max_length=16,
        blank=True,
        default="",
        choices=[("", gettext_lazy("Every language")), ("en", "English"), ("ko", "한국어")],
    )
    order = models.PositiveSmallIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("prompt")
        verbose_name_plural = gettext_lazy("prompts")
        ordering = ("order", "id")

    def __str__(self) -> str:
        return self.title


class OriginKind(models.TextChoices):
    NONE = "", "none"
    SHARE = "share"
    SAMPLE = "sample"
    BRANCH = "branch"  # "branch in new chat": origin_id is the conversation it was copied from
    API = "api", gettext_lazy("OpenAI-compatible API")  # one per request; hidden from the app's lists


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    title = models.CharField(max_length=200, blank=True)
    model = models.ForeignKey(LLMModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    system_prompt = models.TextField(blank=True, max_length=8000)
    pinned = models.BooleanField(default=False)
    archived = models.BooleanField(default=False)
    # Where a cloned conversation came from (a Share id or a Sample id); ids, not foreign keys,
    # so deleting the share or sample never touches the clone.
    origin_kind = models.CharField(max_length=10, choices=OriginKind.choices, blank=True, default="")
    origin_id = models.CharField(max_length=64, blank=True, default="")
    # Set when the conversation was made by the OpenAI-compatible API: its replies count against
    # the same plan limits and show in the usage figures, split by this source. RESTRICT: a key
    # with usage is revoked, never deleted (deleting its user still deletes both).
    api_key = models.ForeignKey(
        "accounts.ApiKey", on_delete=models.RESTRICT, null=True, blank=True, related_name="conversations"
    )
    context_items = models.ManyToManyField(
        "collector.Item",
        blank=True,
        related_name="conversations",
        help_text=gettext_lazy("Collector items given as context."),
    )
    # The leaf of the active path (conversations.tree): what the owner reads, shares and continues.
    # None only while the conversation has no message. DO_NOTHING: a message goes only with its
    # conversation (one DELETE each, the constraint checked at commit).
    # The tools a reply may call: names of tool servers (tools.ToolServer) and "web_search",
    # each allowed for the owner when set (tools.selectors.tools_problem); the reply leaves out
    # any that is no longer available, with a notice.
    tools = models.JSONField(default=list, blank=True)
    current_message = models.ForeignKey("Message", on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = gettext_lazy("conversation")
        verbose_name_plural = gettext_lazy("conversations")
        ordering = ("-pinned", "-updated_at", "-created_at")
        indexes = [models.Index(fields=("owner", "archived", "-updated_at"))]

    def __str__(self) -> str:
        return self.title or str(self.id)


class Role(models.TextChoices):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


class MessageStatus(models.TextChoices):
    PENDING = "pending"
    STREAMING = "streaming"
    COMPLETE = "complete"
    STOPPED = "stopped"
    ERROR = "error"
    INTERRUPTED = "interrupted"


IN_FLIGHT_STATUSES = (MessageStatus.PENDING, MessageStatus.STREAMING)


class MessageQuerySet(models.QuerySet):
    def in_flight(self) -> "MessageQuerySet":
        """Replies being generated (or about to be): the one meaning of "a reply in flight"."""
        return self.filter(role=Role.ASSISTANT, status__in=IN_FLIGHT_STATUSES)


class Message(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    # The message this one answers or follows (None: a first message); messages with the same
    # parent are versions of one turn (conversations.tree). DO_NOTHING: messages go only with
    # their conversation, so deleting one never walks the tree level by level.
    parent = models.ForeignKey("self", on_delete=models.DO_NOTHING, null=True, blank=True, related_name="children")
    # How many messages are above it: a path's length is its leaf's depth plus one.
    depth = models.PositiveIntegerField(default=0)
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=MessageStatus.choices, default=MessageStatus.COMPLETE)
    model = models.ForeignKey(LLMModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True, help_text=gettext_lazy("Time to the first token."))
    duration_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text=gettext_lazy("Time to the end of the reply.")
    )
    error_code = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    # Asked for by an API request (max_tokens, temperature, stop); empty for the app's replies.
    generation_options = models.JSONField(default=dict, blank=True)
    # Files the user attached to this message (a user message's), in the order they were given.
    attachments = models.ManyToManyField("files.StoredFile", blank=True, related_name="messages")
    # What a reply was based on: [{n, kind: "file" | "item", id, title, snippet, page}].
    sources = models.JSONField(default=list, blank=True)
    # Why the model stopped ("stop", "length", "tool_calls"), as the upstream said; blank if unknown.
    finish_reason = models.CharField(max_length=20, blank=True)
    # The tool calls a reply made, as OpenAI writes them: [{id, type: "function", function: {name,
    # arguments}}]. An OpenAI-compatible request's are run by its caller; those the server ran for
    # an app reply add what the reader sees (conversations.generation.tool_loop): {server, tool,
    # arguments (an object), status, result, error, truncated, offset, duration_ms}.
    tool_calls = models.JSONField(default=list, blank=True)
    # What the reader should know about how the reply was made, beside its text: [{code, message}]
    # (a tool server that was down, the tool rounds' cap reached).
    notices = models.JSONField(default=list, blank=True)
    # Streaming bookkeeping: last event seq saved, and a heartbeat the reaper watches.
    stream_seq = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = gettext_lazy("message")
        verbose_name_plural = gettext_lazy("messages")
        ordering = ("created_at", "id")
        indexes = [
            models.Index(fields=("conversation", "created_at", "id")),
            models.Index(fields=("status", "heartbeat_at")),
            models.Index(fields=("role", "created_at")),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class Source(models.TextChoices):
    APP = "app", gettext_lazy("App")  # the web client or the REST API with a user's session
    API = "api", gettext_lazy("API key")  # the OpenAI-compatible API


class LedgerEntry(models.Model):
    """One reply asked for: a message sent, a regenerate, an edit, an OpenAI-compatible request.

    What the daily quota (``conversations.quota``) and the usage figures (``console.usage``)
    count, kept apart from the conversation so that deleting it (the user, the retention purge)
    gives neither the day's quota back nor takes the reply out of the figures. Written in the
    transaction that creates the reply's rows (``services._asked``); its outcome is
    written by the statements that end the reply (``generation.rows``). It holds no text. Imports
    and clones of shares write none: copied history is not a reply asked for.
    """

    # SET_NULL: deleting an account keeps the service's figures (its own quota no longer matters).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # The reply's id, not a foreign key: the entry outlives the message.
    message_id = models.UUIDField(unique=True)
    # Kept apart from ``api_key``, which an account's deletion empties: the source stays.
    source = models.CharField(max_length=3, choices=Source.choices, default=Source.APP)
    api_key = models.ForeignKey("accounts.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    model = models.ForeignKey(LLMModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # ``pending`` until the reply ends (its start is not written here), then how it ended.
    status = models.CharField(max_length=12, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True, help_text=gettext_lazy("Time to the first token."))

    # The reply's fields its outcome copies when it ends.
    OUTCOME_FIELDS = ("status", "prompt_tokens", "completion_tokens", "latency_ms")

    class Meta:
        verbose_name = gettext_lazy("ledger entry")
        ordering = ("-created_at", "-id")
        verbose_name_plural = gettext_lazy("ledger entries")
        indexes = [
            models.Index(fields=("user", "created_at"), name="ledger_user_day"),  # the daily quota
            models.Index(fields=("created_at",), name="ledger_created"),  # the figures' windows
            models.Index(
                fields=("status",), condition=Q(status__in=IN_FLIGHT_STATUSES), name="ledger_in_flight"
            ),  # replies in flight, whenever they started
        ]

    def __str__(self) -> str:
        return f"{self.source} reply {self.message_id} ({self.status})"

    @classmethod
    def of_reply(cls, reply: Message, *, conversation: Conversation) -> "LedgerEntry":
        """The (unsaved) entry of ``reply``, asked for in ``conversation``, as it stands."""
        return cls(
            user_id=conversation.owner_id,
            message_id=reply.pk,
            source=Source.APP if conversation.api_key_id is None else Source.API,
            api_key_id=conversation.api_key_id,
            model_id=reply.model_id,
            created_at=reply.created_at,
            **{name: getattr(reply, name) for name in cls.OUTCOME_FIELDS},
        )


class Rating(models.TextChoices):
    UP = "up"
    DOWN = "down"


class Feedback(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback")
    rating = models.CharField(max_length=4, choices=Rating.choices)
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("feedback")
        ordering = ("-updated_at",)
        verbose_name_plural = gettext_lazy("feedback")
        constraints = [models.UniqueConstraint(fields=("user", "message"), name="one_feedback_per_user_message")]

    def __str__(self) -> str:
        return f"{self.rating} on {self.message_id}"
