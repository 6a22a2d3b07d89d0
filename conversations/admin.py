import os

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin, TabularInline

from collector.models import Item
from core.titles import TitleFormMixin

from . import tree
from .capabilities import KNOWN as KNOWN_CAPABILITIES
from .llm.keys import api_key_env_problem
from .models import Conversation, Feedback, LLMModel, Message, Prompt


class LLMModelAdminForm(forms.ModelForm):
    # Ticked from the known list (conversations/capabilities.py); the model's clean() checks again.
    capabilities = forms.MultipleChoiceField(
        choices=[(name, name) for name in KNOWN_CAPABILITIES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "What the model honours beyond text: vision = images (image_url parts); structured_output = "
            "response_format (JSON mode and JSON schemas); tools = tool calls; logprobs = token log probabilities. "
            "Test connection adds what the upstream says it supports."
        ),
    )

    class Meta:
        model = LLMModel
        fields = ("capabilities",)  # the admin passes the fieldsets' fields


@admin.register(LLMModel)
class LLMModelAdmin(ModelAdmin):
    """The model catalog. The console registers its subclass in place of this one
    (``console/admin/conversations.py``): import and export, the bulk actions, the connection test."""

    list_display = (
        "display_name",
        "slug",
        "provider",
        "upstream_model",
        "context_window",
        "capabilities",
        "enabled",
        "is_default",
        "api_key_status",
        "order",
    )
    list_filter = ("provider", "enabled", "is_default")
    search_fields = ("slug", "display_name", "upstream_model")
    form = LLMModelAdminForm
    ordering = ("order", "id")
    filter_horizontal = ("plans",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("slug", "display_name", "description", "enabled", "is_default", "order", "plans")}),
        (
            gettext_lazy("Upstream"),
            {
                "fields": (
                    "provider",
                    "upstream_model",
                    "base_url",
                    "api_key_env",
                    "api_key_status",
                    "request_timeout_seconds",
                ),
                "description": gettext_lazy(
                    "API keys are read from the environment variable named here, never stored: "
                    "only a name the operator allows (CHAT_API_KEY_ENV_ALLOWED), never one of the server's own "
                    "settings."
                ),
            },
        ),
        (
            gettext_lazy("Generation"),
            {"fields": ("context_window", "max_output_tokens", "temperature", "capabilities")},
        ),
    )
    readonly_fields = ("api_key_status",)

    @admin.display(description=gettext_lazy("API key"))
    def api_key_status(self, obj) -> str:
        # A row written before the rule (or by a migration) shows why it cannot read its key; the
        # provider refuses it anyway (conversations/llm/keys.py).
        if not obj.api_key_env:
            return "-"
        problem = api_key_env_problem(obj.api_key_env)
        if problem:
            return format_html(
                '<span class="text-red-600 dark:text-red-400">{}</span>',
                _("Refused: %(problem)s") % {"problem": problem},
            )
        state = _("set") if os.environ.get(obj.api_key_env) else _("not set")
        return f"{obj.api_key_env} ({state})"


@admin.register(Prompt)
class PromptAdmin(ModelAdmin):
    list_display = ("title", "category", "language", "order", "enabled", "updated_at")
    list_editable = ("order", "enabled")
    list_filter = ("category", "language", "enabled")
    search_fields = ("title", "text")
    ordering = ("order", "id")


class MessageInline(TabularInline):
    model = Message
    extra = 0
    can_delete = False
    show_change_link = True
    fields = (
        "role",
        "status",
        "depth",
        "short_content",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "latency_ms",
        "created_at",
    )
    readonly_fields = fields
    ordering = ("created_at", "id")

    @admin.display(description=gettext_lazy("content"))
    def short_content(self, obj) -> str:
        return obj.content if len(obj.content) <= 200 else obj.content[:200] + "…"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("model")


class ConversationAdminForm(TitleFormMixin, forms.ModelForm):
    """Context items offered and accepted are the conversation owner's own: the engine sends them
    to the model, so another user's notes must never be attachable, by staff either. The title
    follows the one rule for titles."""

    class Meta:
        model = Conversation
        fields = "__all__"  # noqa: DJ007 (the admin's fieldsets decide what shows)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "context_items" in self.fields:
            owner_id = self.instance.owner_id if self.instance.pk else None
            self.fields["context_items"].queryset = Item.objects.filter(owner_id=owner_id)


@admin.register(Conversation)
class ConversationAdmin(ModelAdmin):
    form = ConversationAdminForm
    list_display = (
        "__str__",
        "owner_email",
        "model",
        "message_count",
        "pinned",
        "archived",
        "origin_kind",
        "updated_at",
    )
    list_filter = ("model", "pinned", "archived", "origin_kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("title", "owner__email")
    list_select_related = ("owner", "model")
    raw_id_fields = ("owner",)
    readonly_fields = ("id", "origin_kind", "origin_id", "created_at", "updated_at", "message_tree")
    exclude = ("current_message",)  # shown by the tree, changed by the owner (PATCH current_message_id)
    filter_horizontal = ("context_items",)
    date_hierarchy = "created_at"
    inlines = (MessageInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(message_total=Count("messages"))

    def has_add_permission(self, request) -> bool:
        # Conversations are started by users through the API (and its quota rules), not here.
        return False

    @admin.display(description=gettext_lazy("owner"), ordering="owner__email")
    def owner_email(self, obj) -> str:
        return obj.owner.email

    @admin.display(description=gettext_lazy("messages"), ordering="message_total")
    def message_count(self, obj) -> int:
        return obj.message_total

    @admin.display(description=gettext_lazy("versions"))
    def message_tree(self, obj) -> str:
        return message_tree_html(obj)


TREE_MAX_MESSAGES = 1000  # a page, not a dump: the messages list (filtered by conversation) has the rest


def message_tree_html(conversation: Conversation) -> str:
    """Every message of the conversation as its tree: each under the one it answers or follows,
    versions of a turn side by side (oldest first), the active path (what the owner reads) marked."""
    skeleton = tree.Skeleton.of(conversation.pk)
    on_path = set(skeleton.path(skeleton.leaf(conversation.current_message_id)))
    rows = {
        str(m.pk): m
        for m in Message.objects.filter(conversation=conversation).only("id", "role", "status", "content", "parent_id")
    }
    lines = []
    pending = [(pk, 0) for pk in reversed(skeleton.children(None))]
    while pending and len(lines) < TREE_MAX_MESSAGES:
        pk, level = pending.pop()
        message = rows[pk]
        text = " ".join(message.content.split())
        lines.append(
            (
                level * 1.5,
                "font-weight:600" if pk in on_path else "opacity:.75",
                "●" if pk in on_path else "○",
                reverse("admin:conversations_message_change", args=[pk]),
                message.role,
                message.status,
                text[:120] + ("…" if len(text) > 120 else "") or _("(no text)"),
            )
        )
        pending.extend((child, level + 1) for child in reversed(skeleton.children(pk)))
    if not lines:
        return _("No messages.")
    items = format_html_join(
        "",
        '<li style="margin-left:{}rem;{}">{} <a href="{}">{}</a> <small>({})</small> {}</li>',
        lines,
    )
    legend = _("● on the path the owner reads; ○ another version")
    return format_html('<p class="text-sm">{}</p><ul class="message-tree">{}</ul>', legend, items)


@admin.register(Message)
class MessageAdmin(ModelAdmin):
    # Few, narrow columns so the key ones fit at 1280 px; the rest is on the message's page.
    list_display = ("summary", "owner", "role", "status", "model", "tokens", "latency_ms", "created_at")
    list_filter = ("status", "role", "model")
    search_fields = ("=id", "=conversation__id", "conversation__owner__email")
    list_select_related = ("conversation__owner", "model")
    raw_id_fields = ("conversation",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=gettext_lazy("message"))
    def summary(self, obj) -> str:
        text = " ".join(obj.content.split())
        return text[:60] + ("…" if len(text) > 60 else "") or "(no text)"

    @admin.display(description=gettext_lazy("owner"), ordering="conversation__owner__email")
    def owner(self, obj) -> str:
        return obj.conversation.owner.email

    @admin.display(description=gettext_lazy("tokens in / out"))
    def tokens(self, obj) -> str:
        if obj.prompt_tokens is None and obj.completion_tokens is None:
            return "-"
        return f"{obj.prompt_tokens or 0} / {obj.completion_tokens or 0}"


@admin.register(Feedback)
class FeedbackAdmin(ModelAdmin):
    list_display = ("rating", "user", "message", "short_comment", "created_at")
    list_filter = ("rating", ("created_at", admin.DateFieldListFilter))
    search_fields = ("user__email", "comment")
    list_select_related = ("user", "message")
    raw_id_fields = ("user", "message")
    readonly_fields = ("created_at", "updated_at")

    @admin.display(description=gettext_lazy("comment"))
    def short_comment(self, obj) -> str:
        return obj.comment[:80]
