"""The console's admins of conversations' models, registered in place of the plain ones of
``conversations/admin.py``: import and export of the model catalog and prompts, the catalog's bulk
actions (written to the audit trail) and its connection test, and "Publish as sample" on
conversations (a sharing service)."""

import asyncio

from django.contrib import admin, messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from unfold.decorators import action as unfold_action

from conversations import services
from conversations.admin import ConversationAdmin, LLMModelAdmin, LLMModelAdminForm, PromptAdmin
from conversations.llm import get_provider
from conversations.llm.capability_probe import upstream_capabilities
from conversations.llm.limits import upstream_limits
from conversations.models import Conversation, LLMModel, Prompt
from core.exceptions import Conflict
from sharing.services import sample_create_from_conversation

from ..audit import record_staff_action
from ..resources import ConsoleImportExportMixin, LLMModelResource, PromptResource

for model in (LLMModel, Prompt, Conversation):
    admin.site.unregister(model)


# The limits a new model must have, each with the way the upstream may say it.
LIMITS = ("context_window", "max_output_tokens")


class LLMModelAddForm(LLMModelAdminForm):
    """A new model's context window and output limit: what the operator enters, else what its
    upstream says (``conversations/llm/limits.py``), else the form asks for them. Never a default
    that fits no model (the catalog's 2,048 and 512)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits_read: dict[str, tuple[int, str]] = {}
        for name in LIMITS:
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].initial = None
                self.initial.pop(name, None)
                self.fields[name].help_text = _(
                    "Leave empty to read it from the upstream (llama.cpp's /props, the model's entry in "
                    "/models); it is asked for when the upstream does not say."
                )

    def clean(self):
        cleaned = super().clean()
        missing = [name for name in LIMITS if name in self.fields and cleaned.get(name) is None]
        if not missing or self.errors:
            return cleaned
        probe = LLMModel(
            provider=cleaned.get("provider") or "openai",
            upstream_model=cleaned.get("upstream_model") or "",
            base_url=cleaned.get("base_url") or "",
            api_key_env=cleaned.get("api_key_env") or "",
        )
        try:
            limits = upstream_limits(probe)
        except Exception:  # noqa: BLE001 - a key the rules refuse, an odd URL: the operator enters them
            limits = None
        said = {
            "context_window": (limits.context_window, limits.context_source) if limits else (None, ""),
            "max_output_tokens": (limits.max_output_tokens, limits.output_source) if limits else (None, ""),
        }
        for name in missing:
            value, source = said[name]
            if value is None:
                self.add_error(name, self._not_said(name, limits))
            else:
                cleaned[name] = value
                self.limits_read[name] = (value, source)
        return cleaned

    @staticmethod
    def _not_said(name: str, limits) -> str:
        what = _("its context window") if name == "context_window" else _("its output limit")
        if limits is not None and limits.problem:
            return _("The upstream did not answer (%(problem)s): enter %(what)s.") % {
                "problem": limits.problem,
                "what": what,
            }
        return _("The upstream does not say %(what)s: enter it.") % {"what": what}


@admin.register(LLMModel)
class ConsoleLLMModelAdmin(ConsoleImportExportMixin, LLMModelAdmin):
    resource_classes = [LLMModelResource]
    actions = ("enable", "disable", "make_default", "test_connection")
    actions_detail = ("test_connection_detail",)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = LLMModelAddForm
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        for name, (value, source) in getattr(form, "limits_read", {}).items():
            label = _("Context window") if name == "context_window" else _("Output limit")
            self.message_user(
                request,
                _("%(what)s: %(tokens)s tokens, as the upstream says (%(source)s).")
                % {"what": label, "tokens": f"{value:,}", "source": source},
                messages.INFO,
            )

    @admin.action(description=gettext_lazy("Enable the selected models"))
    def enable(self, request, queryset):
        targets = list(queryset.filter(enabled=False))
        count = services.models_enable(models=queryset)
        record_staff_action(targets, action="enable", changes={"enabled": [False, True]})
        self.message_user(
            request,
            ngettext("Enabled %(count)d model.", "Enabled %(count)d models.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=gettext_lazy("Disable the selected models"))
    def disable(self, request, queryset):
        defaults = list(queryset.filter(is_default=True).values_list("slug", flat=True))
        targets = list(queryset.filter(enabled=True, is_default=False))
        count = services.models_disable(models=queryset)
        record_staff_action(targets, action="disable", changes={"enabled": [True, False]})
        self.message_user(
            request,
            ngettext("Disabled %(count)d model.", "Disabled %(count)d models.", count) % {"count": count},
            messages.SUCCESS,
        )
        if defaults:
            self.message_user(
                request,
                _("Kept %(slugs)s enabled: it is the default. Make another model the default first.")
                % {"slugs": ", ".join(defaults)},
                messages.WARNING,
            )

    @admin.action(description=gettext_lazy("Make the selected model the default"))
    def make_default(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one model to make it the default."), messages.ERROR)
            return
        model = queryset.get()
        with transaction.atomic():
            previous = services.model_make_default(model=model)
            record_staff_action(
                previous, action="make another model the default", changes={"is_default": [True, False]}
            )
            record_staff_action([model], action="make default", changes={"is_default": [model.is_default, True]})
        self.message_user(
            request, _("%(name)s is now the default model.") % {"name": model.display_name}, messages.SUCCESS
        )

    def _test_one(self, request, model) -> None:
        """Ask the model's upstream whether it answers and lists the model; the answer, as a message."""
        try:
            result = asyncio.run(get_provider(model).check())
        except Exception as exc:  # noqa: BLE001 - any failure is the answer the operator asked for
            self.message_user(
                request, _("%(slug)s: failed: %(error)s") % {"slug": model.slug, "error": exc}, messages.ERROR
            )
            return
        if result is False:
            self.message_user(request, _("%(slug)s: failed.") % {"slug": model.slug}, messages.ERROR)
            return
        detail = f" ({result})" if result not in (None, True) else ""
        self.message_user(request, _("%(slug)s: OK") % {"slug": model.slug} + detail, messages.SUCCESS)
        self._capabilities_from_upstream(request, model)

    def _capabilities_from_upstream(self, request, model) -> None:
        """What the upstream says the model honours (tools, structured output...), added to its row."""
        said, source = upstream_capabilities(model)
        if not said:
            return
        added = services.model_capabilities_add(model=model, names=said)
        text = _("%(slug)s: the upstream (%(source)s) says it supports %(names)s.") % {
            "slug": model.slug,
            "source": source,
            "names": ", ".join(said),
        }
        if added:
            text += " " + _("Added to its capabilities: %(names)s.") % {"names": ", ".join(added)}
        self.message_user(request, text, messages.INFO)

    @admin.action(description=gettext_lazy("Test the connection to the selected models"))
    def test_connection(self, request, queryset):
        for model in queryset:
            self._test_one(request, model)

    @unfold_action(description=gettext_lazy("Test connection"), url_path="test-connection", icon="network_check")
    def test_connection_detail(self, request, object_id):
        """The button on a model's page: the same test, then back to the page. A GET is enough: it
        changes nothing, as the bulk action's does not."""
        model = LLMModel.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        if model is None:
            raise Http404(_("No such model."))
        self._test_one(request, model)
        return redirect(reverse("admin:conversations_llmmodel_change", args=[model.pk]))


@admin.register(Prompt)
class ConsolePromptAdmin(ConsoleImportExportMixin, PromptAdmin):
    resource_classes = [PromptResource]


@admin.action(description=gettext_lazy("Publish as sample"))
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
    modeladmin.message_user(
        request,
        ngettext(
            "Published %(count)d conversation as a sample.", "Published %(count)d conversations as samples.", created
        )
        % {"count": created},
        messages.SUCCESS,
    )
    if skipped:
        modeladmin.message_user(
            request,
            _("Skipped (no finished messages): %(titles)s")
            % {"titles": ", ".join(skipped[:10]) + ("…" if len(skipped) > 10 else "")},
            messages.WARNING,
        )


@admin.register(Conversation)
class ConsoleConversationAdmin(ConversationAdmin):
    actions = (publish_as_sample,)
