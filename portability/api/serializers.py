from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conversations.api.serializers import AttachmentSerializer, NoticeSerializer, SourceSerializer, ToolCallSerializer
from conversations.models import MessageStatus, Role
from core.serializers import InputSerializer

from .. import documents
from ..models import Export, Import, RecordKind

EXPORT_FORMATS = ("json", "markdown")


class ImportErrorSerializer(serializers.Serializer):
    # Plain strings in the schema: another enum named "kind" (or "role", "status") would collide with
    # the collector's and the conversations' in the document's enum names.
    kind = serializers.CharField(help_text=f"What failed: {', '.join(RecordKind.values)}.")
    index = serializers.IntegerField(help_text="Its position in the file (from 0).")
    title = serializers.CharField(allow_blank=True)
    error = serializers.CharField()


class ImportSerializer(serializers.ModelSerializer):
    errors = ImportErrorSerializer(many=True, read_only=True, help_text="The entries that could not be imported.")
    conversations_total = serializers.IntegerField(
        allow_null=True, read_only=True, help_text="Conversations in the file; null until the job has read it."
    )

    class Meta:
        model = Import
        fields = (
            "id",
            "status",
            "source_format",
            "file_name",
            "file_size",
            "conversations_total",
            "conversations_imported",
            "conversations_skipped",
            "conversations_failed",
            "messages_imported",
            "items_imported",
            "items_skipped",
            "todos_imported",
            "todos_skipped",
            "files_imported",
            "files_skipped",
            "errors",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        )
        read_only_fields = fields
        extra_kwargs = {
            "source_format": {"help_text": "Told from the content once read: chatgpt, chat-server, chat-server-user."},
            "conversations_skipped": {
                "help_text": "Already in your account (imported before, or the conversation it was exported from), "
                "or with nothing to import in them."
            },
            "error": {"help_text": "Why the whole import failed (status failed); empty otherwise."},
        }


class ImportCreateSerializer(InputSerializer):
    file = serializers.FileField(
        allow_empty_file=False,
        help_text="A ChatGPT data export (its conversations.json, or the whole zip), a conversation exported "
        "here as JSON, or a user export zip from here.",
    )


class ExportSerializer(serializers.ModelSerializer):
    counts = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, help_text="How many of each part the zip holds."
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = (
            "id",
            "status",
            "file_size",
            "counts",
            "error",
            "download_url",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
        )
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_download_url(self, export: Export) -> str | None:
        if export.status != "done" or export.is_expired:
            return None
        path = reverse("user-export-download", kwargs={"pk": export.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ConversationExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(
        choices=EXPORT_FORMATS,
        required=False,
        default="json",
        help_text="json: our versioned document (imports back through POST /imports); markdown: a transcript.",
    )


# --- the JSON document, for the OpenAPI document only ---------------------------------------------


class DocumentMessageSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The message's id (absent in older documents).")
    parent_id = serializers.UUIDField(
        allow_null=True,
        help_text="The message it answers or follows (null for a first message; absent in older documents). "
        "Every version of a turn is listed: those with the same parent are versions of one another.",
    )
    role = serializers.CharField(help_text=f"One of: {', '.join(Role.values)}.")
    content = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    status = serializers.CharField(help_text=f"One of: {', '.join(MessageStatus.values)}.")
    model = serializers.CharField(allow_null=True, help_text="Slug of the model that wrote it.")
    finish_reason = serializers.CharField(allow_blank=True)
    attachments = AttachmentSerializer(many=True, help_text="A user message's files (absent in older documents).")
    sources = SourceSerializer(many=True, help_text="What an assistant reply was based on (absent in older documents).")
    tool_calls = ToolCallSerializer(
        many=True,
        help_text="The tools a reply called, in order, as the message keeps them: results in full, whatever the "
        "server (absent in older documents). An import keeps the known fields of each, typed and capped.",
    )
    notices = NoticeSerializer(
        many=True, help_text="What the reply's reader was told about how it was made (absent in older documents)."
    )


class ConversationDocumentSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=[documents.CONVERSATION_FORMAT])
    version = serializers.IntegerField(min_value=1, help_text=f"{documents.VERSION} for this server.")
    exported_at = serializers.DateTimeField()
    id = serializers.UUIDField()
    title = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    model = serializers.CharField(allow_null=True)
    system_prompt = serializers.CharField(allow_blank=True)
    pinned = serializers.BooleanField()
    archived = serializers.BooleanField()
    tools = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="The tools the chat had enabled; an import keeps those its new owner may enable here.",
    )
    current_message_id = serializers.UUIDField(
        allow_null=True,
        help_text="The leaf of the path the owner was reading (null without messages; absent in older documents).",
    )
    messages = DocumentMessageSerializer(
        many=True, help_text="Every message of the conversation's tree, oldest first (a parent before its children)."
    )
