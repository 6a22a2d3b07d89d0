from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin

from accounts.storage import storage_check
from core.exceptions import DomainError

from . import services
from .models import Item, ItemKind, Tag


class ItemAdminForm(forms.ModelForm):
    """Validates with the same rules as the API (URL schemes, upload type and size sniffing)."""

    url = forms.URLField(required=False, max_length=2000, assume_scheme="https")
    tag_names = forms.CharField(
        required=False,
        label=gettext_lazy("Tag names"),
        help_text=gettext_lazy("Comma-separated tag names (created for the owner)."),
    )

    class Meta:
        model = Item
        fields = ("owner", "kind", "title", "url", "content", "file")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Links and files default their title to the URL or the file name, as in the API.
        self.fields["title"].required = False
        if self.instance.pk:
            self.fields["tag_names"].initial = ", ".join(tag.name for tag in self.instance.tags.all())
            # The kind, owner and stored file are fixed once created.
            for name in ("owner", "kind", "file"):
                self.fields[name].disabled = True

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["tag_list"] = services.tag_names_clean(cleaned.get("tag_names", "").split(","))
            if self.instance.pk:
                # The same rules item_update applies, checked here so the admin shows them on the form.
                kind = self.instance.kind
                if kind != ItemKind.LINK and not (cleaned.get("title") or "").strip():
                    raise forms.ValidationError({"title": [_("The title cannot be blank.")]})
                if kind == ItemKind.LINK:
                    services.item_fields_clean(kind=kind, title=cleaned.get("title", ""), url=cleaned.get("url", ""))
            elif "kind" in cleaned:
                values = services.item_fields_clean(
                    kind=cleaned["kind"],
                    title=cleaned.get("title", ""),
                    url=cleaned.get("url", ""),
                    upload=cleaned.get("file") or None,
                )
                checked = values.get("checked_upload")
                if checked is not None and cleaned.get("owner") is not None:
                    # The owner's plan storage, told on the form (item_create checks it again).
                    storage_check(user=cleaned["owner"], size=checked.size)
        except forms.ValidationError as exc:
            self.add_error(None, exc)
        except DomainError as exc:
            self.add_error("file", exc.detail)
        return cleaned


@admin.register(Item)
class ItemAdmin(ModelAdmin):
    form = ItemAdminForm
    list_display = ("title", "owner", "kind", "tag_list", "file_name", "created_at")
    list_filter = ("kind", "tags", "created_at")
    search_fields = ("title", "url", "content", "owner__email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = ("file_name", "file_size", "content_type", "created_at", "updated_at")
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

    @admin.display(description=gettext_lazy("tags"))
    def tag_list(self, item: Item) -> str:
        return ", ".join(tag.name for tag in item.tags.all())

    def save_model(self, request, obj, form, change):
        tags = form.cleaned_data.get("tag_list", [])
        if change:
            # The form already applied its values to obj; the service compares with the stored row.
            current = Item.objects.get(pk=obj.pk)
            services.item_update(item=current, title=obj.title, url=obj.url, content=obj.content, tags=tags)
            obj.refresh_from_db()
            return
        created = services.item_create(
            user=form.cleaned_data["owner"],
            kind=form.cleaned_data["kind"],
            title=form.cleaned_data.get("title", ""),
            content=form.cleaned_data.get("content", ""),
            url=form.cleaned_data.get("url", ""),
            file=form.cleaned_data.get("file") or None,
            tags=tags,
        )
        # The admin goes on with `obj` (redirect, log entry): make it the row the service created.
        obj.pk = created.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # Tags were set by the service from tag_names; the form has no m2m of its own.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        services.item_delete(item=obj)

    def delete_queryset(self, request, queryset):
        for item in queryset:
            services.item_delete(item=item)


@admin.register(Tag)
class TagAdmin(ModelAdmin):
    list_display = ("name", "owner", "item_count", "created_at")
    search_fields = ("name", "owner__email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(description=gettext_lazy("items"), ordering="item_count")
    def item_count(self, tag: Tag) -> int:
        return tag.item_count
