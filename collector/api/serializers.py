from django.http import QueryDict
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import InputSerializer
from files.api.serializers import FileSerializer

from .. import selectors, services
from ..models import Item, ItemKind, Tag

MAX_ID = 2**63 - 1  # a bigint: a larger number would overflow the database, not just miss


class _TagName(serializers.CharField):
    def to_internal_value(self, data):
        # In a form body (multipart) every value is text: a client's null arrives as "null" (so form
        # encoders, schemathesis among them, write it), which is no tag name; in JSON it is a name.
        if data == "null" and isinstance(getattr(self.root, "initial_data", None), QueryDict):
            self.fail("null")
        return super().to_internal_value(data)


def _tag_name() -> serializers.CharField:
    return _TagName(max_length=services.MAX_TAG_LENGTH, allow_blank=False)


class ItemSerializer(serializers.ModelSerializer):
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    url = serializers.CharField(read_only=True, help_text="The link's address; empty for notes and files.")
    download_url = serializers.SerializerMethodField()
    file_size = serializers.SerializerMethodField()
    file = FileSerializer(
        source="stored_file",
        read_only=True,
        allow_null=True,
        help_text="A file item's file in the files store: its extraction `status`, `error` and `pages` "
        "(`GET /files/{id}` has the same). Null for notes, links and files stored before the files store.",
    )

    class Meta:
        model = Item
        fields = (
            "id",
            "kind",
            "title",
            "url",
            "content",
            "tags",
            "file_name",
            "file_size",
            "content_type",
            "download_url",
            "file",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_file_size(self, item: Item) -> int | None:
        return item.stored_file.size if item.stored_file_id else item.file_size

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_download_url(self, item: Item) -> str | None:
        if not (item.stored_file_id or item.file):
            return None
        path = reverse("collector-item-file", kwargs={"pk": item.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ItemCreateSerializer(InputSerializer):
    kind = serializers.ChoiceField(choices=ItemKind.choices)
    title = serializers.CharField(max_length=services.TITLE_MAX_LENGTH, required=False, allow_blank=True, default="")
    content = serializers.CharField(
        max_length=services.CONTENT_MAX_CHARS, required=False, allow_blank=True, default="", trim_whitespace=False
    )
    url = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    tags = serializers.ListField(child=_tag_name(), required=False, max_length=services.MAX_TAGS_PER_ITEM, default=list)
    file = serializers.FileField(required=False, help_text="Required when kind is 'file' (multipart/form-data).")


class ItemUpdateSerializer(InputSerializer):
    title = serializers.CharField(max_length=services.TITLE_MAX_LENGTH, required=False, allow_blank=True)
    content = serializers.CharField(
        max_length=services.CONTENT_MAX_CHARS, required=False, allow_blank=True, trim_whitespace=False
    )
    url = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    tags = serializers.ListField(child=_tag_name(), required=False, max_length=services.MAX_TAGS_PER_ITEM)


class ItemFilterSerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=selectors.MAX_QUERY_LENGTH,
        help_text="Comma-separated keywords; every keyword must appear in the title, content or url.",
    )
    tag = serializers.CharField(
        required=False, allow_blank=True, max_length=services.MAX_TAG_LENGTH, help_text="Tag name (any case)."
    )
    kind = serializers.ChoiceField(choices=ItemKind.choices, required=False, allow_blank=True)
    ordering = serializers.ChoiceField(
        choices=selectors.ORDERINGS, required=False, allow_blank=True, help_text="Default: -created_at."
    )


class TagSerializer(serializers.ModelSerializer):
    item_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Tag
        fields = ("id", "name", "item_count", "created_at")
        read_only_fields = fields
