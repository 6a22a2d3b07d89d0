from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from collector.api.serializers import MAX_ID, ItemSerializer
from core.openapi import CatalogSlugField
from core.serializers import InputSerializer

from .. import tree
from ..models import Conversation, Feedback, LLMModel, Message, Prompt, Rating, Role
from ..services import (
    CONTINUES,
    FEEDBACK_COMMENT_MAX_CHARS,
    MAX_ATTACHMENTS,
    MAX_CONTEXT_ITEMS,
    SYSTEM_PROMPT_MAX_CHARS,
    TITLE_MAX_CHARS,
)

# --- catalog ----------------------------------------------------------------------------------


def _enabled_model_slugs():
    return LLMModel.objects.filter(enabled=True).values_list("slug", flat=True)


class PublicModelSerializer(serializers.ModelSerializer):
    """What anyone may know about a model: nothing about where it runs or which key it uses."""

    class Meta:
        model = LLMModel
        fields = ("slug", "display_name", "description", "provider", "context_window", "capabilities", "is_default")
        read_only_fields = fields


class PromptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Prompt
        fields = ("id", "title", "text", "category", "language", "order")
        read_only_fields = fields


class PromptQuerySerializer(serializers.Serializer):
    category = serializers.CharField(
        required=False, allow_blank=True, max_length=60, help_text="Empty: every category."
    )


# --- messages ---------------------------------------------------------------------------------


class AttachmentSerializer(serializers.Serializer):
    """A file attached to a message: what it is, never its content (``GET /files/{id}/content``)."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    content_type = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)


class SourceSerializer(serializers.Serializer):
    """What a reply was based on; its text cites it as ``[n]``."""

    n = serializers.IntegerField(help_text="The number the reply cites, from 1.")
    kind = serializers.ChoiceField(choices=["file", "item", "web"])
    id = serializers.CharField(
        allow_null=True,
        help_text="The file's id (kind file) or the collector item's (kind item); empty for a web page; null in a "
        "reply imported from another account when that file or item did not come with it.",
    )
    url = serializers.CharField(required=False, help_text="The page's address (kind web only).")
    title = serializers.CharField()
    snippet = serializers.CharField(help_text="The passage's text (its start, at most about 300 characters).")
    page = serializers.IntegerField(allow_null=True, help_text="Page, slide or sheet number, when known.")


class ToolCallSerializer(serializers.Serializer):
    """A tool call of a reply. The server ran it when ``status`` is set (an app chat with tools);
    a ``/v1`` request's own calls have only ``id``, ``type`` and ``function``."""

    id = serializers.CharField()
    type = serializers.CharField(required=False, help_text="Always `function`.")
    function = serializers.DictField(
        required=False, help_text="OpenAI's form: `{name, arguments}` (arguments a JSON string)."
    )
    server = serializers.CharField(required=False, help_text="The tool server's name, or `web_search`.")
    name = serializers.CharField(required=False, help_text="The tool's own name on its server.")
    arguments = serializers.JSONField(required=False, help_text="The arguments the model gave, as an object.")
    status = serializers.ChoiceField(
        required=False, choices=["running", "ok", "error", "timeout", "stopped", "interrupted", "refused"]
    )
    result = serializers.CharField(
        required=False, allow_null=True, help_text="What the tool returned (capped); null in a share when hidden."
    )
    truncated = serializers.BooleanField(required=False, help_text="Whether `result` was cut at the cap.")
    error = serializers.CharField(required=False, allow_blank=True)
    offset = serializers.IntegerField(
        required=False, help_text="Characters of the reply's content written before this call: where it is shown."
    )
    duration_ms = serializers.IntegerField(required=False, allow_null=True)


class NoticeSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="`tool_server_unavailable`, `tool_rounds_exhausted` or `tool_limit_reached`, for now."
    )
    message = serializers.CharField()


class MessageSerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    my_rating = serializers.SerializerMethodField(help_text="The caller's rating of this reply, if any.")
    attachments = serializers.SerializerMethodField(help_text="Files attached (a user message's; else empty).")
    sources = SourceSerializer(many=True, read_only=True, help_text="What the reply was based on (replies).")
    tool_calls = ToolCallSerializer(many=True, read_only=True, help_text="The tools the reply called, in order.")
    notices = NoticeSerializer(
        many=True, read_only=True, help_text="What the reader should know about how the reply was made."
    )
    finish_reason = serializers.CharField(
        read_only=True,
        help_text="Why the model stopped, as the upstream said: `stop`, or `length` when the reply was cut at the "
        "output limit (the last reply can then be continued: `POST .../messages/{id}/continue`); empty when "
        "unknown or not finished.",
    )
    continues = serializers.SerializerMethodField(
        help_text="The id of the reply this one continues (made by `.../continue`), else null."
    )
    parent_id = serializers.UUIDField(
        read_only=True,
        allow_null=True,
        help_text="The message this one answers or follows; null for a first message.",
    )
    sibling_ids = serializers.SerializerMethodField(
        help_text="The ids of every version of this message (all messages with the same parent), oldest first, "
        "itself included: a client shows ‹ n/m › when there is more than one and switches with "
        "`PATCH /conversations/{id} {current_message_id}`."
    )

    class Meta:
        model = Message
        fields = (
            "id",
            "conversation_id",
            "parent_id",
            "sibling_ids",
            "role",
            "content",
            "status",
            "model",
            "prompt_tokens",
            "completion_tokens",
            "latency_ms",
            "duration_ms",
            "error_code",
            "error",
            "finish_reason",
            "continues",
            "attachments",
            "sources",
            "tool_calls",
            "notices",
            "created_at",
            "finished_at",
            "my_rating",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_continues(self, obj) -> str | None:
        return (obj.generation_options or {}).get(CONTINUES) if obj.role == Role.ASSISTANT else None

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_sibling_ids(self, obj) -> list:
        known = self.context.get("sibling_ids", {}).get(str(obj.pk))
        if known is not None:  # a message just made, alone in its turn (views._sent_payload)
            return known
        # The conversation's shape, read once for the whole page (views pass it), else here.
        skeleton = self.context.get("skeleton")
        if skeleton is None or str(obj.pk) not in skeleton:
            skeleton = tree.Skeleton.of(obj.conversation_id)
            self.context["skeleton"] = skeleton
        return skeleton.sibling_ids(obj.pk)

    def get_my_rating(self, obj) -> str | None:
        return getattr(obj, "my_rating", None)

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, obj) -> list:
        if obj.role != Role.USER:  # only questions carry files: no query for a reply
            return []
        return AttachmentSerializer(obj.attachments.all(), many=True).data


def _attachments_field():
    return serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        default=list,
        max_length=MAX_ATTACHMENTS,
        help_text=f"Ids of the user's files (POST /files) to attach, at most {MAX_ATTACHMENTS}. Images go to models "
        "with the vision capability; documents are searched for the passages the question needs.",
    )


class MessageCreateSerializer(InputSerializer):
    content = serializers.CharField(
        trim_whitespace=False,
        allow_blank=True,
        required=False,
        default="",
        max_length=settings.CHAT["MAX_MESSAGE_CHARS"],
        help_text="What the user wrote (may be blank or left out when files are attached).",
    )
    attachments = _attachments_field()
    model = CatalogSlugField(
        slugs=_enabled_model_slugs,
        required=False,
        allow_null=True,
        max_length=64,
        help_text="Model slug for this reply (and the next ones).",
    )
    parent_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="The reply this message answers (an assistant message of this conversation), or null for a new "
        "first message; left out: the conversation's current leaf. Editing a message is this call with the edited "
        "message's `parent_id`: the edit becomes a new version beside it (its `sibling_ids`), which stays.",
    )

    def validate(self, attrs):
        if not attrs["content"].strip() and not attrs.get("attachments"):
            raise serializers.ValidationError({"content": [_("This field may not be blank.")]}, code="blank")
        return attrs


class RegenerateSerializer(InputSerializer):
    model = CatalogSlugField(
        slugs=_enabled_model_slugs,
        required=False,
        allow_null=True,
        max_length=64,
        help_text="Model slug for the new reply (and the next ones); default: the conversation's.",
    )


class EditSerializer(InputSerializer):
    message_id = serializers.UUIDField(
        help_text="The last user message of the active path (to edit any other, `POST .../messages` with its "
        "`parent_id`)."
    )
    content = serializers.CharField(
        trim_whitespace=False, max_length=settings.CHAT["MAX_MESSAGE_CHARS"], help_text="The new text of that message."
    )
    model = CatalogSlugField(
        slugs=_enabled_model_slugs,
        required=False,
        allow_null=True,
        max_length=64,
        help_text="Model slug for this reply (and the next ones).",
    )

    def validate_content(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("This field may not be blank."), code="blank")
        return value


class WaitQuerySerializer(serializers.Serializer):
    wait = serializers.BooleanField(
        required=False, default=False, help_text="Generate the reply before answering (no streaming)."
    )


class MessageSentSerializer(serializers.Serializer):
    user_message = MessageSerializer(
        help_text="The message answered: the one just sent, or for a regenerate the question the new version "
        "answers (for a continued reply's new version, the reply it continues)."
    )
    assistant_message = MessageSerializer(help_text="The reply, pending (or finished with `?wait=true`).")
    stream_url = serializers.CharField(help_text="SSE endpoint that streams the reply.")


class ReplyContinuedSerializer(serializers.Serializer):
    assistant_message = MessageSerializer(help_text="The new reply, which continues the cut one.")
    stream_url = serializers.CharField(help_text="SSE endpoint that streams the reply.")


# --- conversations ----------------------------------------------------------------------------


class ConversationSerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    message_count = serializers.IntegerField(
        read_only=True, default=0, help_text="Messages on the active path (the versions not shown are not counted)."
    )
    current_message_id = serializers.UUIDField(
        read_only=True,
        allow_null=True,
        help_text="The leaf of the active path: `GET .../messages` lists the path from the first message down to "
        "it. Null while the conversation has no message.",
    )
    last_message_preview = serializers.CharField(read_only=True, allow_null=True, default=None)

    class Meta:
        model = Conversation
        fields = (
            "id",
            "title",
            "model",
            "system_prompt",
            "pinned",
            "archived",
            "origin_kind",
            "origin_id",
            "tools",
            "message_count",
            "last_message_preview",
            "current_message_id",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class ConversationCreatedSerializer(ConversationSerializer):
    """A new conversation; when it was created with a first message, the reply being generated."""

    user_message = MessageSerializer(required=False, allow_null=True)
    assistant_message = MessageSerializer(required=False, allow_null=True)
    stream_url = serializers.CharField(required=False, allow_null=True)

    class Meta(ConversationSerializer.Meta):
        fields = (*ConversationSerializer.Meta.fields, "user_message", "assistant_message", "stream_url")
        read_only_fields = fields


def _tools_field(**kwargs):
    return serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=50,
        required=False,
        help_text=(
            "The tools a reply may call: names from `GET /tools` (tool servers and `web_search`). Used by a "
            "model with the `tools` capability; optional on PUT too (left as it is when not given)."
        ),
        **kwargs,
    )


class ConversationCreateSerializer(InputSerializer):
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=TITLE_MAX_CHARS)
    model = CatalogSlugField(slugs=_enabled_model_slugs, required=False, allow_null=True, default=None, max_length=64)
    system_prompt = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=SYSTEM_PROMPT_MAX_CHARS, trim_whitespace=False
    )
    message = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,  # with attachments (validate() refuses it without)
        default=None,
        trim_whitespace=False,
        max_length=settings.CHAT["MAX_MESSAGE_CHARS"],
        help_text="A first message; its reply starts at once.",
    )
    attachments = _attachments_field()
    item_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=MAX_CONTEXT_ITEMS,
        required=False,
        default=list,
        help_text=(
            "Collector items given to the model as context (as `PUT /conversations/{id}/context-items` sets "
            "them): a client keeps a new chat's settings until its first message and sends them here, so "
            "no empty conversation is made by choosing them."
        ),
    )

    tools = _tools_field(default=list)

    def validate(self, attrs):
        message = attrs.get("message")
        if message is not None and not message.strip() and not attrs.get("attachments"):
            raise serializers.ValidationError({"message": [_("This field may not be blank.")]}, code="blank")
        return attrs


class ConversationUpdateSerializer(InputSerializer):
    """PUT replaces every field below; PATCH changes the ones given. ``model: null`` means the default."""

    title = serializers.CharField(allow_blank=True, max_length=TITLE_MAX_CHARS)
    model = CatalogSlugField(slugs=_enabled_model_slugs, allow_null=True, max_length=64)
    system_prompt = serializers.CharField(allow_blank=True, max_length=SYSTEM_PROMPT_MAX_CHARS, trim_whitespace=False)
    pinned = serializers.BooleanField()
    archived = serializers.BooleanField()
    tools = _tools_field()
    current_message_id = serializers.UUIDField(
        required=False,
        help_text="Show another version: any message of the conversation; the active path goes through it and on "
        "down its newest replies. Nothing else changes (not even `updated_at`).",
    )


class ConversationListQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Searches titles and message content."
    )
    archived = serializers.BooleanField(
        required=False, default=False, help_text="Archived ones instead (default false)."
    )
    pinned = serializers.BooleanField(required=False, allow_null=True, default=None)


class StaffConversationSerializer(ConversationSerializer):
    owner_id = serializers.IntegerField(read_only=True)
    owner_email = serializers.EmailField(source="owner.email", read_only=True)

    class Meta(ConversationSerializer.Meta):
        fields = (*ConversationSerializer.Meta.fields, "owner_id", "owner_email")
        read_only_fields = fields


class StaffConversationDetailSerializer(StaffConversationSerializer):
    messages = MessageSerializer(many=True, read_only=True)

    class Meta(StaffConversationSerializer.Meta):
        fields = (*StaffConversationSerializer.Meta.fields, "messages")
        read_only_fields = fields


class StaffConversationListQuerySerializer(ConversationListQuerySerializer):
    archived = serializers.BooleanField(required=False, allow_null=True, default=None)


# --- stop and feedback ------------------------------------------------------------------------


class StopSerializer(InputSerializer):
    message_id = serializers.UUIDField(
        required=False,
        help_text="The reply to stop (replies on several branches may run at once); left out: the one on the "
        "active path, else the newest.",
    )


class StopResponseSerializer(serializers.Serializer):
    message = MessageSerializer(help_text="The reply asked to stop (its final status arrives on the stream).")


class FeedbackCreateSerializer(InputSerializer):
    message_id = serializers.UUIDField()
    rating = serializers.ChoiceField(choices=Rating.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=FEEDBACK_COMMENT_MAX_CHARS)


class FeedbackSerializer(serializers.ModelSerializer):
    class Meta:
        model = Feedback
        fields = ("id", "message_id", "rating", "comment", "created_at", "updated_at")
        read_only_fields = fields


class ContextItemsInputSerializer(InputSerializer):
    item_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=MAX_CONTEXT_ITEMS,
        allow_empty=True,
    )


class ContextItemsSerializer(serializers.Serializer):
    item_ids = serializers.ListField(child=serializers.IntegerField())
    items = ItemSerializer(many=True)
