"""Imports and exports in the admin: read-only records of what the jobs did (users start them
through the API or the commands; staff through "Export this user's data", which calls
``services.user_export_start``)."""

from django.contrib import admin
from unfold.admin import ModelAdmin

from .models import Export, Import


class _ReadOnlyAdmin(ModelAdmin):
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    search_fields = ("owner__email", "id")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Import)
class ImportAdmin(_ReadOnlyAdmin):
    list_display = (
        "created_at",
        "owner",
        "status",
        "source_format",
        "file_name",
        "conversations_imported",
        "conversations_skipped",
        "conversations_failed",
        "messages_imported",
    )
    list_filter = ("status", "source_format", "created_at")
    search_fields = ("owner__email", "file_name", "id")
    readonly_fields = [field.name for field in Import._meta.fields]


@admin.register(Export)
class ExportAdmin(_ReadOnlyAdmin):
    list_display = ("created_at", "owner", "status", "file_size", "finished_at", "expires_at")
    list_filter = ("status", "created_at")
    readonly_fields = [field.name for field in Export._meta.fields]
