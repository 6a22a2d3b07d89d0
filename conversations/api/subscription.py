"""``/user/settings/subscription`` (and staff's ``/users/{id}/settings/subscription``): the plan part
of a user's settings, with what the plan allows used so far. Served here, not by accounts, because
the day's usage is counted by conversations (the reply ledger); the settings row is still written
by ``accounts.services.user_settings_update``."""

from rest_framework import serializers

from accounts.api.serializers import PlanSerializer, selectable_plans
from accounts.api.views import SettingsPartView, StaffTargetMixin
from accounts.models import UserSettings
from accounts.storage import storage_usage
from core import serializers as core_serializers
from core.openapi import CatalogSlugField
from core.serializers import InputSerializer

from .. import selectors
from . import schema


class UsageTodaySerializer(serializers.Serializer):
    """Your plan's daily message quota as it stands."""

    messages_sent = serializers.IntegerField(
        help_text=(
            "Messages sent since your midnight: in your saved `time_zone`, UTC when none is saved (the app "
            "and API keys alike; regenerating or editing counts one)."
        )
    )
    daily_message_limit = serializers.IntegerField(
        allow_null=True, help_text="Messages the plan allows per day (your day, in your `time_zone`); null: unlimited."
    )
    resets_at = core_serializers.DateTimeField(
        help_text="When the count starts again from zero: your next midnight in your `time_zone` (UTC if none)."
    )


class StorageSerializer(serializers.Serializer):
    """Your files against your plan's storage (``accounts/storage.py``)."""

    used_bytes = serializers.IntegerField(help_text="Bytes of files you store now (collector files).")
    limit_bytes = serializers.IntegerField(
        allow_null=True, help_text="Bytes of files the plan lets you store; null: unlimited."
    )


class SubscriptionSerializer(InputSerializer):
    plan = CatalogSlugField(
        slugs=selectable_plans, max_length=40, help_text="Slug of the plan (only selectable plans)."
    )
    auto_renew = serializers.BooleanField()
    plan_renews_at = core_serializers.DateTimeField(read_only=True, allow_null=True)
    plan_details = PlanSerializer(read_only=True)
    usage_today = UsageTodaySerializer(read_only=True)
    storage = StorageSerializer(read_only=True)

    def to_representation(self, instance: UserSettings):
        return {
            "plan": instance.plan.slug,
            "auto_renew": instance.auto_renew,
            "plan_renews_at": core_serializers.DateTimeField().to_representation(instance.plan_renews_at)
            if instance.plan_renews_at
            else None,
            "plan_details": PlanSerializer(instance.plan).data,
            "usage_today": UsageTodaySerializer(selectors.usage_today(settings_row=instance)).data,
            "storage": StorageSerializer(storage_usage(settings_row=instance)).data,
        }


class StaffSubscriptionSerializer(SubscriptionSerializer):
    plan = serializers.SlugField(max_length=40, help_text="Slug of the plan (staff may grant any).")
    plan_renews_at = core_serializers.DateTimeField(allow_null=True, required=False)


@schema.SUBSCRIPTION
class SubscriptionView(SettingsPartView):
    serializer_class = SubscriptionSerializer
    http_method_names = ["get", "put", "patch", "options"]


@schema.STAFF_SUBSCRIPTION
class StaffSubscriptionView(StaffTargetMixin, SettingsPartView):
    serializer_class = SubscriptionSerializer
    staff_serializer_class = StaffSubscriptionSerializer
    http_method_names = ["get", "put", "patch", "options"]
