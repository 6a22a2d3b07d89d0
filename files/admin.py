"""Stored files in the admin: listed and inspected, never rendered (no link to the bytes, no preview:
an uploaded HTML or image file is the user's, and opening it in the admin's origin would be a risk).
The console adds "Extract again" with its audit entry (console/admin/files.py)."""

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin, TabularInline

from .models import FilePage, StoredFile


class FilePageInline(TabularInline):
    model = FilePage
    fields = ("number", "label", "excerpt")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    @admin.display(description=gettext_lazy("text"))
    def excerpt(self, page: FilePage) -> str:
        return page.text[:300] + ("…" if len(page.text) > 300 else "")

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("number")


@admin.register(StoredFile)
class StoredFileAdmin(ModelAdmin):
    list_display = ("name", "owner", "size_text", "content_type", "status", "error", "pages", "created_at")
    list_filter = ("status", "error", "content_type", "created_at")
    search_fields = ("name", "owner__email", "sha256")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    date_hierarchy = "created_at"
    # Everything read-only, the blob itself not shown at all: no URL to it, no inline rendering.
    fields = (
        "id",
        "owner",
        "name",
        "content_type",
        "size_text",
        "sha256",
        "status",
        "error",
        "error_detail",
        "pages",
        "extract_runs",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (FilePageInline,)

    def has_add_permission(self, request) -> bool:
        return False  # files come from users' uploads, checked by files.services.file_create

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=gettext_lazy("size"), ordering="size")
    def size_text(self, stored: StoredFile) -> str:
        return filesizeformat(stored.size)
