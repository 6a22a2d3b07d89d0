from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin

from core.titles import TitleFormMixin

from . import services
from .models import Sample, Share


class RevokedFilter(admin.SimpleListFilter):
    title = _("revoked")
    parameter_name = "revoked"

    def lookups(self, request, model_admin):
        return (("yes", _("Revoked")), ("no", _("Not revoked")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(revoked_at__isnull=True)
        return queryset


class ExpiredFilter(admin.SimpleListFilter):
    title = _("expired")
    parameter_name = "expired"

    def lookups(self, request, model_admin):
        return (("yes", _("Expired")), ("no", _("Not expired")))

    def queryset(self, request, queryset):
        expired = Q(expires_at__isnull=False, expires_at__lte=timezone.now())
        if self.value() == "yes":
            return queryset.filter(expired)
        if self.value() == "no":
            return queryset.exclude(expired)
        return queryset


def _defer_snapshot_on_list(request, qs):
    # The list never shows the snapshot; loading 100 of them would be waste.
    match = request.resolver_match
    if match is not None and (match.url_name or "").endswith("_changelist"):
        return qs.defer("messages")
    return qs


def _snapshot_html(messages_snapshot):
    # Escaped plain text: the admin shows what was shared, never renders it.
    return format_html_join(
        "",
        '<p><strong>{}</strong> <small>{}</small><br><span style="white-space:pre-wrap">{}</span></p>',
        ((m.get("role", ""), m.get("created_at", ""), m.get("content", "")) for m in messages_snapshot or []),
    )


class ShareAdminForm(TitleFormMixin, forms.ModelForm):
    class Meta:
        model = Share
        fields = "__all__"  # noqa: DJ007 (the admin's fieldsets decide what shows)


class SampleAdminForm(TitleFormMixin, forms.ModelForm):
    class Meta:
        model = Sample
        fields = "__all__"  # noqa: DJ007 (the admin's fieldsets decide what shows)


@admin.register(Share)
class ShareAdmin(ModelAdmin):
    form = ShareAdminForm
    list_display = ("title", "owner", "created_at", "expires_at", "is_revoked", "message_count", "view_count")
    list_filter = (RevokedFilter, ExpiredFilter, "created_at")
    list_select_related = ("owner",)
    search_fields = ("title", "owner__email", "=id")
    raw_id_fields = ("owner", "source_conversation")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ("revoke",)
    readonly_fields = (
        "id",
        "owner",
        "source_conversation",
        "model_slug",
        "model_name",
        "message_count",
        "created_at",
        "revoked_at",
        "view_count",
        "snapshot",
    )
    fields = (*readonly_fields[:-1], "title", "expires_at", "snapshot")

    def get_queryset(self, request):
        return _defer_snapshot_on_list(request, super().get_queryset(request))

    def has_add_permission(self, request) -> bool:
        return False  # shares are made by their owners, through the API

    @admin.display(boolean=True, description=_("revoked"), ordering="revoked_at")
    def is_revoked(self, obj) -> bool:
        return obj.revoked_at is not None

    @admin.display(description=_("snapshot"))
    def snapshot(self, obj):
        return _snapshot_html(obj.messages)

    @admin.action(description=_("Revoke selected shares"))
    def revoke(self, request, queryset):
        count = services.shares_revoke(shares=queryset)
        self.message_user(
            request,
            ngettext("Revoked %(count)d share.", "Revoked %(count)d shares.", count) % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Sample)
class SampleAdmin(ModelAdmin):
    form = SampleAdminForm
    list_display = ("title", "published", "order", "message_count", "created_by", "created_at", "updated_at")
    list_editable = ("order",)
    list_filter = ("published", "created_at")
    list_select_related = ("created_by",)
    search_fields = ("title", "description")
    raw_id_fields = ("created_by", "source_conversation")
    ordering = ("order", "-created_at")
    actions = ("publish", "unpublish")
    readonly_fields = (
        "id",
        "source_conversation",
        "created_by",
        "model_slug",
        "message_count",
        "created_at",
        "updated_at",
        "snapshot",
    )
    fields = ("title", "description", "published", "order", *readonly_fields)

    def get_queryset(self, request):
        return _defer_snapshot_on_list(request, super().get_queryset(request))

    def has_add_permission(self, request) -> bool:
        # Samples are snapshots of a conversation: the Conversation admin's "Publish as sample"
        # action (or POST /samples) makes them.
        return False

    @admin.display(description=_("snapshot"))
    def snapshot(self, obj):
        return _snapshot_html(obj.messages)

    @admin.action(description=_("Publish selected samples"))
    def publish(self, request, queryset):
        count = services.samples_set_published(samples=queryset, published=True)
        self.message_user(
            request,
            ngettext("Published %(count)d sample.", "Published %(count)d samples.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Unpublish selected samples"))
    def unpublish(self, request, queryset):
        count = services.samples_set_published(samples=queryset, published=False)
        self.message_user(
            request,
            ngettext("Unpublished %(count)d sample.", "Unpublished %(count)d samples.", count) % {"count": count},
            messages.SUCCESS,
        )
