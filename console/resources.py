"""Bulk import and export in the admin (django-import-export): users, plans, the model catalog
and prompts. The console's admins gain the Import and Export buttons by mixing in
:class:`ConsoleImportExportMixin` and naming their ``resource_classes``. ("Resources" means
django-import-export's here, and only here: the API's collections are viewsets.)

An import is always previewed first: a dry run in a transaction that is rolled back, listing each
row as new, updated, skipped (unchanged) or invalid with its errors. It can be confirmed only when
no row has an error, and the confirmed import runs in one transaction that is rolled back whole if
a row fails then (say the data changed since the preview): nothing is ever half-imported. Imports
run inside the admin, so django-auditlog records every change with the staff member who made it.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from import_export import resources, widgets
from import_export.admin import ImportExportMixin
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.resources import Diff
from unfold.contrib.import_export.forms import ExportForm, ImportForm

from accounts import services
from accounts.models import Plan, User, UserSettings
from conversations.models import LLMModel, Prompt

from .guard import SUPERUSER_REFUSAL, may_act_on
from .spreadsheets import SafeCSV

# --- the admin side ---------------------------------------------------------------------------


class ConsoleImportExportMixin(ImportExportMixin):
    """Import and Export for an admin, in unfold's look. Importing needs the model's add and change
    permissions, exporting its change permission (a bulk copy of the data is more than viewing it);
    other staff get 403. CSV and JSON (XLSX would need openpyxl, which is not installed); the CSV
    never holds a cell a spreadsheet would run as a formula (``console/spreadsheets.py``)."""

    import_form_class = ImportForm
    export_form_class = ExportForm  # every column of the resource: no per-field choice to get wrong
    formats = [SafeCSV, base_formats.JSON]

    def has_import_permission(self, request) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request) -> bool:
        return self.has_change_permission(request)

    def get_import_data_kwargs(self, **kwargs):
        # The confirmed import is rolled back if any row is invalid, not only if one raised: the
        # preview already refuses such a file, this keeps a replayed or stale confirm from
        # importing the good rows alone.
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            messages.error(
                request,
                _(
                    "Nothing was imported: some rows are no longer valid (the data changed since the "
                    "preview). Import the file again to see which."
                ),
            )
            app_label, model_name = self.get_model_info()
            url = reverse(f"admin:{app_label}_{model_name}_import", current_app=self.admin_site.name)
            return HttpResponseRedirect(url)
        return super().process_result(result, request)


# --- widgets shared by the resources ----------------------------------------------------------


class StrictBooleanWidget(widgets.BooleanWidget):
    """1/0, true/false or yes/no in any case; a blank cell leaves the value as it is (or the
    default, for a new row). Anything else is an error: the library's widget reads any other word
    as false, so "yes" in an is_active column would have deactivated the account."""

    TRUE_WORDS = frozenset({"1", "true", "yes"})
    FALSE_WORDS = frozenset({"0", "false", "no"})

    def clean(self, value, row=None, **kwargs):
        if value is None or isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in ("", "null", "none"):
            return None
        if word in self.TRUE_WORDS or word == "1.0":
            return True
        if word in self.FALSE_WORDS or word == "0.0":
            return False
        raise ValueError(_("Enter 1 or 0 (true or false), not '%(value)s'.") % {"value": value})


def flag_field(name: str) -> Field:
    return Field(attribute=name, column_name=name, widget=StrictBooleanWidget(), saves_null_values=False)


def slugs_in(value, separator: str = ",") -> list[str]:
    return [slug.strip() for slug in str(value or "").split(separator) if slug.strip()]


class PlanSlugWidget(widgets.Widget):
    """A plan by its slug; blank is None (no change, or the default plan for a new user)."""

    def clean(self, value, row=None, **kwargs):
        slug = str(value or "").strip()
        if not slug:
            return None
        plan = Plan.objects.filter(slug=slug).first()
        if plan is None:
            known = ", ".join(Plan.objects.values_list("slug", flat=True))
            raise ValueError(_("Unknown plan '%(slug)s' (the plans are: %(known)s).") % {"slug": slug, "known": known})
        return plan

    def render(self, value, obj=None, **kwargs):
        return value.slug if value else ""


class EmailWidget(widgets.CharWidget):
    """Addresses are stored folded, as every other path stores them."""

    def clean(self, value, row=None, **kwargs):
        return User.objects.normalize_email(str(value) if value is not None else "")


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
            raise ValueError(_("Unknown plan(s): %(slugs)s.") % {"slugs": ", ".join(unknown)})
        return plans


class CapabilitiesWidget(widgets.Widget):
    """A model's capabilities as names, comma-separated ("vision"); the model's ``clean()``
    refuses an unknown one."""

    def clean(self, value, row=None, **kwargs):
        return [name.strip() for name in str(value or "").split(",") if name.strip()]

    def render(self, value, obj=None, **kwargs):
        return ",".join(value or [])


# --- resources --------------------------------------------------------------------------------


class DehydratingDiff(Diff):
    """The preview's before/after columns as the export writes them (the library's diff reads the
    attributes alone, so a column computed by a ``dehydrate_`` method showed blank)."""

    def __init__(self, resource, instance, new):
        super().__init__(resource, instance, new)
        self.left = self._exported(resource, instance)

    def compare_with(self, resource, instance):
        self.right = self._exported(resource, instance)

    @staticmethod
    def _exported(resource, instance) -> list:
        if instance is None:
            return ["" for _ in resource.get_import_fields()]
        return [resource.export_field(field, instance) for field in resource.get_import_fields()]


class UserResource(resources.ModelResource):
    """Users by email: ``email, display_name, is_active, is_staff, plan`` (the plan's slug).

    Never a password: the file has no such column, and a new user gets an unusable password (they
    set one with "Forgot password?" or sign in with a linked provider). Never a superuser: the
    column does not exist, and a new user is not one. A new user gets their settings row with the
    plan given (the default plan when blank); for an existing user a blank plan changes nothing,
    and staff may grant any plan, as on the user's page. No one changes their own access
    (is_active, is_staff) by import.
    """

    email = Field(attribute="email", column_name="email", widget=EmailWidget())
    is_active = flag_field("is_active")
    is_staff = flag_field("is_staff")
    # No attribute: read by dehydrate_plan, written by after_save_instance.
    plan = Field(column_name="plan", widget=PlanSlugWidget())

    class Meta:
        model = User
        fields = ("email", "display_name", "is_active", "is_staff", "plan")
        import_id_fields = ("email",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    @classmethod
    def get_diff_class(cls):
        return DehydratingDiff

    def get_queryset(self):
        return super().get_queryset().select_related("settings__plan")

    def get_instance(self, instance_loader, row):
        if "email" not in row:
            return None
        email = self.fields["email"].clean(row)
        return User.objects.filter(email__iexact=email).first() if email else None

    def after_init_instance(self, instance, new, row, **kwargs):
        if new:
            instance.set_unusable_password()

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        instance._import_plan = None
        if "plan" in row:
            try:
                instance._import_plan = self.fields["plan"].clean(row)
            except ValueError as exc:
                errors["plan"] = [str(exc)]
        importer = kwargs.get("user")
        if importer is not None and instance.pk == importer.pk and not (instance.is_active and instance.is_staff):
            errors.setdefault("is_active", []).append(
                _("You cannot deactivate your own account or remove your own staff status: ask another staff member.")
            )
        if importer is not None and not may_act_on(importer, instance):
            errors.setdefault("email", []).append(
                SUPERUSER_REFUSAL.format(what=pgettext_lazy("an action on an account", "change"))
            )
        if errors:
            raise ValidationError(errors)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        plan = getattr(instance, "_import_plan", None)
        if plan is not None and original.pk is not None and not import_validation_errors:
            current = UserSettings.objects.filter(user_id=original.pk).values_list("plan_id", flat=True).first()
            if current != plan.pk:
                return False
        return super().skip_row(instance, original, row, import_validation_errors)

    def after_save_instance(self, instance, row, **kwargs):
        plan = getattr(instance, "_import_plan", None)
        if plan is None:
            services.user_settings_get(user=instance)  # a new user gets their settings and the default plan
        elif not UserSettings.objects.filter(user=instance).exists():
            UserSettings.objects.create(user=instance, plan=plan)
        else:
            services.user_settings_update(user=instance, by_staff=True, plan=plan.slug)

    def dehydrate_plan(self, user) -> str:
        pending = getattr(user, "_import_plan", None)
        if pending is not None:
            return pending.slug
        if user.pk is None:
            return ""
        try:
            return user.settings.plan.slug
        except UserSettings.DoesNotExist:
            return ""


class PlanResource(resources.ModelResource):
    """Plans by slug; a row never deletes a plan (users hold them)."""

    selectable_by_user = flag_field("selectable_by_user")

    class Meta:
        model = Plan
        fields = (
            "slug",
            "name",
            "daily_message_limit",
            "max_concurrent_generations",
            "storage_limit_bytes",
            "selectable_by_user",
            "order",
        )
        import_id_fields = ("slug",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True


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
    capabilities = Field(attribute="capabilities", column_name="capabilities", widget=CapabilitiesWidget())

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
            "capabilities",
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
        fields = ("id", "title", "text", "category", "language", "order", "enabled")
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
                raise ValidationError(
                    {"id": [_("No prompt has the id %(id)s: leave it blank to add a new prompt.") % {"id": pk}]}
                )
            return prompt
        title = str(row.get("title") or "").strip()
        if not title:
            return None
        matches = list(Prompt.objects.filter(title=title)[:2])
        if len(matches) > 1:
            raise ValidationError({"title": [_("Several prompts have this title: give the id of the one to change.")]})
        return matches[0] if matches else None
