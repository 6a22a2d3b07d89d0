from zoneinfo import ZoneInfo, available_timezones

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from core import serializers as core_serializers
from core.serializers import InputSerializer

from ..models import Todo

TIME_ZONES = sorted(available_timezones())


class TodoSerializer(serializers.ModelSerializer):
    class Meta:
        model = Todo
        fields = ("id", "title", "description", "todo_date", "complete", "completed_at", "created_at", "updated_at")
        read_only_fields = fields


class TodoInputSerializer(InputSerializer):
    """POST and PUT send every field (missing ones take these defaults); PATCH sends some."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    todo_date = core_serializers.DateTimeField(required=False, allow_null=True, default=None)
    complete = serializers.BooleanField(required=False, default=False)


class TodoFilterSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=200, help_text="Case-insensitive substring of the title.")
    date = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text="A calendar day (YYYY-MM-DD) in `tz`: todos due any time that day.",
    )
    complete = serializers.BooleanField(required=False, allow_null=True, default=None, help_text="true or false.")
    # The names this machine's time zone database knows, listed in the schema, so a client can
    # tell a good name from a bad one before sending it.
    tz = serializers.ChoiceField(
        choices=TIME_ZONES,
        required=False,
        default="UTC",
        help_text="IANA time zone for `date`, e.g. Asia/Seoul.",
        error_messages={
            "invalid_choice": gettext_lazy("Unknown time zone '{input}'; use an IANA name such as Asia/Seoul.")
        },
    )

    def validate_tz(self, value: str) -> ZoneInfo:
        return ZoneInfo(value)
