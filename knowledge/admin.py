from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from unfold.admin import ModelAdmin

from . import embeddings
from .models import EmbeddingSettings


@admin.register(EmbeddingSettings)
class EmbeddingSettingsAdmin(ModelAdmin):
    """One row: the list opens it. Off (the default), retrieval is BM25 alone and nothing is called."""

    fields = ("enabled", "base_url", "model", "api_key_env", "weight", "timeout_seconds")
    list_display = ("__str__", "base_url", "updated_at")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "base_url":
            kwargs["assume_scheme"] = "https"  # a URL typed without a scheme
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request) -> bool:
        return False  # the list opens the one row, made on first visit

    def has_change_permission(self, request, obj=None) -> bool:
        # Where every document question and passage is sent: superusers only (other staff see it).
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        row = EmbeddingSettings.current()
        return HttpResponseRedirect(reverse("admin:knowledge_embeddingsettings_change", args=[row.pk]))

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        embeddings.forget_settings()
