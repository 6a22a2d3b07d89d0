"""The console's admins of conversations' models, registered in place of the plain ones of
``conversations/admin.py``: import and export of the model catalog and prompts, the catalog's bulk
actions (written to the audit trail) and its connection test, and "Publish as sample" on
conversations (a sharing service)."""

import asyncio

from django.contrib import admin, messages
from django.db import transaction

from conversations import services
from conversations.admin import ConversationAdmin, LLMModelAdmin, PromptAdmin
from conversations.llm import get_provider
from conversations.models import Conversation, LLMModel, Prompt
from core.exceptions import Conflict
from sharing.services import sample_create_from_conversation

from ..audit import record_staff_action
from ..resources import ConsoleImportExportMixin, LLMModelResource, PromptResource

for model in (LLMModel, Prompt, Conversation):
    admin.site.unregister(model)


@admin.register(LLMModel)
class ConsoleLLMModelAdmin(ConsoleImportExportMixin, LLMModelAdmin):
    resource_classes = [LLMModelResource]
    actions = ("enable", "disable", "make_default", "test_connection")

    @admin.action(description="Enable the selected models")
    def enable(self, request, queryset):
        targets = list(queryset.filter(enabled=False))
        count = services.models_enable(models=queryset)
        record_staff_action(targets, action="enable", changes={"enabled": [False, True]})
        self.message_user(request, f"Enabled {count} model(s).", messages.SUCCESS)

    @admin.action(description="Disable the selected models")
    def disable(self, request, queryset):
        defaults = list(queryset.filter(is_default=True).values_list("slug", flat=True))
        targets = list(queryset.filter(enabled=True, is_default=False))
        count = services.models_disable(models=queryset)
        record_staff_action(targets, action="disable", changes={"enabled": [True, False]})
        self.message_user(request, f"Disabled {count} model(s).", messages.SUCCESS)
        if defaults:
            self.message_user(
                request,
                f"Kept {', '.join(defaults)} enabled: it is the default. Make another model the default first.",
                messages.WARNING,
            )

    @admin.action(description="Make the selected model the default")
    def make_default(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one model to make it the default.", messages.ERROR)
            return
        model = queryset.get()
        with transaction.atomic():
            previous = services.model_make_default(model=model)
            record_staff_action(
                previous, action="make another model the default", changes={"is_default": [True, False]}
            )
            record_staff_action([model], action="make default", changes={"is_default": [model.is_default, True]})
        self.message_user(request, f"{model.display_name} is now the default model.", messages.SUCCESS)

    @admin.action(description="Test the connection to the selected models")
    def test_connection(self, request, queryset):
        for model in queryset:
            try:
                result = asyncio.run(get_provider(model).check())
            except Exception as exc:  # noqa: BLE001 - any failure is the answer the operator asked for
                self.message_user(request, f"{model.slug}: failed: {exc}", messages.ERROR)
                continue
            if result is False:
                self.message_user(request, f"{model.slug}: failed.", messages.ERROR)
            else:
                detail = f" ({result})" if result not in (None, True) else ""
                self.message_user(request, f"{model.slug}: OK{detail}", messages.SUCCESS)


@admin.register(Prompt)
class ConsolePromptAdmin(ConsoleImportExportMixin, PromptAdmin):
    resource_classes = [PromptResource]


@admin.action(description="Publish as sample")
def publish_as_sample(modeladmin, request, queryset):
    created = 0
    skipped = []
    for conversation in queryset.select_related("model"):
        try:
            sample_create_from_conversation(conversation=conversation, created_by=request.user, published=True)
        except Conflict:  # nothing finished to snapshot yet
            # A conversation with no finished message has nothing to show; say so, keep going.
            skipped.append(str(conversation))
        else:
            created += 1
    modeladmin.message_user(request, f"Published {created} conversation(s) as samples.", messages.SUCCESS)
    if skipped:
        modeladmin.message_user(
            request,
            "Skipped (no finished messages): " + ", ".join(skipped[:10]) + ("…" if len(skipped) > 10 else ""),
            messages.WARNING,
        )


@admin.register(Conversation)
class ConsoleConversationAdmin(ConversationAdmin):
    actions = (publish_as_sample,)
