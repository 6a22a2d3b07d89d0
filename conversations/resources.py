"""Bulk import and export of the model catalog and the suggested prompts (django-import-export);
the admin side and the shared widgets are in ``accounts/resources.py``."""

from django.core.exceptions import ValidationError
from import_export import resources, widgets
from import_export.fields import Field

from accounts.models import Plan
from accounts.resources import flag_field, slugs_in

from .models import LLMModel, Prompt


class PlanSlugsWidget(widgets.ManyToManyWidget):
    """Plans by their slugs, comma-separated; an unknown slug is an error (the library's widget
    drops it silently, which would open a model to every plan)."""

    def __init__(self):
        super().__init__(Plan, separator=",", field="slug")

    def clean(self, value, row=None, **kwargs):
        slugs = slugs_in(value, self.separator)
        plans = list(Plan.objects.filter(slug__in=slugs))
        unknown = sorted(set(slugs) - {plan.slug for plan in plans})
        if unknown:
            raise ValueError(f"Unknown plan(s): {', '.join(unknown)}.")
        return plans


class LLMModelResource(resources.ModelResource):
    """Models by slug. No secret is ever in the file: ``api_key_env`` is the NAME of the
    environment variable that holds the key (the model never stores a key); the model's ``clean()``
    (``clean_model_instances``) refuses anything but a name the operator allows
    (``conversations/llm/keys.py``), so neither a key pasted there by mistake nor the name of one of
    the server's own secrets is stored. ``plans``
    lists the slugs of the plans that may use the model (blank: every plan)."""

    enabled = flag_field("enabled")
    is_default = flag_field("is_default")
    plans = Field(attribute="plans", column_name="plans", widget=PlanSlugsWidget())

    class Meta:
        model = LLMModel
        fields = (
            "slug",
            "display_name",
            "description",
            "provider",
            "upstream_model",
            "base_url",
            "api_key_env",
            "context_window",
            "max_output_tokens",
            "temperature",
            "request_timeout_seconds",
            "enabled",
            "is_default",
            "order",
            "plans",
        )
        import_id_fields = ("slug",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).prefetch_related("plans")

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if "plans" in row:  # the many-to-many is written after the save: check it before
            try:
                self.fields["plans"].clean(row)
            except ValueError as exc:
                errors["plans"] = [str(exc)]
        if errors:
            raise ValidationError(errors)


class PromptResource(resources.ModelResource):
    """Prompts by id, or by title when the id is blank (a new prompt when no prompt has that
    title). An id that matches no prompt is an error rather than a new prompt with that id."""

    id = Field(attribute="id", column_name="id", widget=widgets.IntegerWidget(), readonly=True)
    enabled = flag_field("enabled")

    class Meta:
        model = Prompt
        fields = ("id", "title", "text", "category", "order", "enabled")
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def get_instance(self, instance_loader, row):
        try:
            pk = self.fields["id"].clean(row) if "id" in row else None
        except ValueError as exc:
            raise ValidationError({"id": [str(exc)]}) from exc
        if pk is not None:
            prompt = Prompt.objects.filter(pk=pk).first()
            if prompt is None:
                raise ValidationError({"id": [f"No prompt has the id {pk}: leave it blank to add a new prompt."]})
            return prompt
        title = str(row.get("title") or "").strip()
        if not title:
            return None
        matches = list(Prompt.objects.filter(title=title)[:2])
        if len(matches) > 1:
            raise ValidationError({"title": ["Several prompts have this title: give the id of the one to change."]})
        return matches[0] if matches else None
