from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import StoredFile

ERROR_CODES = ("no_text", "too_many_pages", "unreadable", "timeout", "too_large")


class FileSerializer(serializers.ModelSerializer):
    error = serializers.SerializerMethodField()
    error_detail = serializers.CharField(read_only=True, help_text="Why extraction failed, for people; or empty.")
    pages = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Pages, slides, sheets or sections read; null until read, and for images.",
    )

    class Meta:
        model = StoredFile
        fields = ("id", "name", "content_type", "size", "status", "error", "error_detail", "pages", "created_at")
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "string",
            "enum": [*ERROR_CODES, None],
            "nullable": True,
            "description": "Why extraction failed (status `failed`), else null: `no_text` (a PDF without a text "
            "layer; OCR is not done), `too_many_pages`, `unreadable`, `timeout`, `too_large`.",
        }
    )
    def get_error(self, stored: StoredFile) -> str | None:
        return stored.error or None


class FileUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The file (multipart/form-data).")
