from django.urls import reverse
from rest_framework import serializers

from conversations.api.serializers import ConversationSerializer
from conversations.models import Role
from core.serializers import InputSerializer

from .. import snapshot
from ..models import Sample, Share
from ..services import DESCRIPTION_MAX_CHARS, TITLE_MAX_CHARS


class SnapshotAttachmentSerializer(serializers.Serializer):
    """A file a question carried, named only: a share never gives the file."""

    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()


class SnapshotSourceSerializer(serializers.Serializer):
    """A source of a reply, as text: the passage's snippet and where it came from."""

    n = serializers.IntegerField()
    # Plain strings in the schema: the same choices as the message's (conversations' SourceSerializer)
    # under another component would make drf-spectacular's enum names collide.
    kind = serializers.CharField(help_text="`file`, `item` or `web`.")
    url = serializers.CharField(
        required=False,
        help_text="The page's address (kind web only): an http or https one, else empty. Shown as a link, "
        "never as HTML.",
    )
    title = serializers.CharField()
    snippet = serializers.CharField()
    page = serializers.IntegerField(allow_null=True)


class SnapshotToolCallSerializer(serializers.Serializer):
    """A tool the reply called (one the server ran; a ``/v1`` request's own calls are not shown)."""

    id = serializers.CharField()
    server = serializers.CharField(help_text="The tool server's name, or `web_search`.")
    name = serializers.CharField(help_text="The tool's own name on its server.")
    arguments = serializers.DictField(help_text="The arguments the model gave, as an object.")
    status = serializers.CharField(
        help_text="`running`, `ok`, `error`, `timeout`, `stopped`, `interrupted` or `refused` (a plain string in "
        "the schema, as `kind`)."
    )
    result = serializers.CharField(
        allow_null=True,
        help_text="What the tool returned (capped); null when the operator marks its server private.",
    )
    result_hidden = serializers.BooleanField(
        help_text="True when the server is private: a share shows the call, never its result or error."
    )
    error = serializers.CharField(allow_blank=True)
    truncated = serializers.BooleanField(help_text="Whether `result` was cut at the cap.")
    offset = serializers.IntegerField(
        allow_null=True, help_text="Characters of the reply's content written before this call: where it is shown."
    )


class SnapshotNoticeSerializer(serializers.Serializer):
    """What the reader should know about how the reply was made (a tool server that was down...)."""

    code = serializers.CharField()
    message = serializers.CharField()


class SnapshotMessageSerializer(serializers.Serializer):
    """One message as strangers see it: who spoke, what was said, when, the files it named, the
    sources it cited, the tools it called and its notices. Nothing else."""

    role = serializers.ChoiceField(choices=[Role.USER, Role.ASSISTANT])
    content = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    attachments = SnapshotAttachmentSerializer(many=True, default=list)
    sources = SnapshotSourceSerializer(many=True, default=list)
    tool_calls = SnapshotToolCallSerializer(
        many=True, default=list, help_text="The tools the reply called, in order (replies)."
    )
    notices = SnapshotNoticeSerializer(many=True, default=list)

    def to_representation(self, instance):
        # Hidden again by the servers private now (read once per response, on the root serializer).
        root = self.root
        private = getattr(root, "_private_servers", None)
        if private is None:
            private = root._private_servers = snapshot.private_servers()
        return super().to_representation(snapshot.shown_message(instance, private=private))


# --- shares -----------------------------------------------------------------------------------


class ShareCreateSerializer(InputSerializer):
    conversation_id = serializers.UUIDField(help_text="One of the caller's conversations.")
    title = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=TITLE_MAX_CHARS, help_text="Defaults to its title."
    )
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="When the link stops working (future)."
    )


class ShareListQuerySerializer(serializers.Serializer):
    all = serializers.BooleanField(required=False, default=False, help_text="Staff only: every user's shares.")


def share_page_url(request, share: Share) -> str:
    path = reverse("share-page", kwargs={"share_id": share.pk})
    return request.build_absolute_uri(path) if request is not None else path


class ShareSerializer(serializers.ModelSerializer):
    """A share as its owner manages it (never shown to strangers)."""

    url = serializers.SerializerMethodField(help_text="The public page of the share.")
    source_conversation_id = serializers.UUIDField(read_only=True, allow_null=True)
    owner_id = serializers.IntegerField(read_only=True)
    is_expired = serializers.BooleanField(read_only=True)

    class Meta:
        model = Share
        fields = (
            "id",
            "url",
            "title",
            "created_at",
            "expires_at",
            "is_expired",
            "message_count",
            "view_count",
            "source_conversation_id",
            "owner_id",
        )
        read_only_fields = fields

    def get_url(self, obj) -> str:
        return share_page_url(self.context.get("request"), obj)


class PublicShareSerializer(serializers.ModelSerializer):
    """What anyone holding the link may see: no owner, no system prompt, no status internals."""

    messages = SnapshotMessageSerializer(many=True, read_only=True)

    class Meta:
        model = Share
        fields = ("id", "title", "created_at", "messages")
        read_only_fields = fields


# --- samples ----------------------------------------------------------------------------------


class SampleCreateSerializer(InputSerializer):
    conversation_id = serializers.UUIDField(help_text="Any conversation (staff curate samples).")
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=TITLE_MAX_CHARS)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=DESCRIPTION_MAX_CHARS)
    published = serializers.BooleanField(required=False, default=True)


class SampleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sample
        fields = ("id", "title", "description", "message_count", "published", "created_at", "updated_at")
        read_only_fields = fields


class SampleDetailSerializer(SampleSerializer):
    messages = SnapshotMessageSerializer(many=True, read_only=True)

    class Meta(SampleSerializer.Meta):
        fields = (*SampleSerializer.Meta.fields, "messages")
        read_only_fields = fields


# --- clones -----------------------------------------------------------------------------------


class ClonedConversationSerializer(ConversationSerializer):
    """The caller's new conversation; continue it with POST /conversations/{id}/messages."""

    messages_url = serializers.SerializerMethodField()

    class Meta(ConversationSerializer.Meta):
        fields = (*ConversationSerializer.Meta.fields, "messages_url")
        read_only_fields = fields

    def get_messages_url(self, obj) -> str:
        return reverse("conversation-messages", kwargs={"pk": obj.pk})
