from allauth.socialaccount.admin import SocialAccountAdmin as AllauthSocialAccountAdmin
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessLog
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import Http404, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, StackedInline, TabularInline
from unfold.decorators import action as unfold_action
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from console.audit import record_staff_action
from console.guard import SUPERUSER_REFUSAL, may_act_on
from console.resources import ConsoleImportExportMixin, PlanResource, UserResource
from conversations.quota import daily_usage, quota_reset

from . import lockout, services
from .models import ApiKey, Device, Plan, User, UserSettings
from .storage import size_text, storage_usage

SELF_REFUSAL = "You cannot {what} your own account: ask another staff member to do it."


class UserSettingsInline(StackedInline):
    model = UserSettings
    can_delete = False
    fk_name = "user"
    fields = (
        "plan",
        "plan_renews_at",
        "auto_renew",
        "theme",
        "language",
        "email_notifications",
        "push_notifications",
        "product_updates",
    )


class DeviceInline(TabularInline):
    model = Device
    extra = 0
    can_delete = False
    fields = ("name", "device_id", "login_type", "ip", "last_seen_at", "revoked_at")
    readonly_fields = fields
    ordering = ("-last_seen_at",)
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ApiKeyInline(TabularInline):
    """The user's API keys with their last use; read-only (users make them, secrets are never
    kept). Revoke them from the API key list, or with "Deactivate and sign out everywhere"."""

    model = ApiKey
    extra = 0
    can_delete = False
    fields = ("name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    show_change_link = True
    verbose_name_plural = _("API keys")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class SocialAccountInline(TabularInline):
    """Linked sign-in providers; read-only (users link and unlink them themselves)."""

    model = SocialAccount
    extra = 0
    can_delete = False
    fields = ("provider", "uid", "date_joined", "last_login")
    readonly_fields = fields
    ordering = ("provider", "date_joined")
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class LoginTypeFilter(admin.SimpleListFilter):
    title = _("login type")
    parameter_name = "login_type"

    def lookups(self, request, model_admin):
        from .models import LoginType

        return LoginType.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(devices__login_type=self.value()).distinct()
        return queryset


@admin.register(User)
class UserAdmin(ConsoleImportExportMixin, DjangoUserAdmin, ModelAdmin):
    resource_classes = [UserResource]
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    change_password_form = AdminPasswordChangeForm
    ordering = ("-date_joined",)
    list_display = (
        "email",
        "display_name",
        "plan",
        "is_active",
        "is_staff",
        "active_devices",
        "last_login",
        "date_joined",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "settings__plan", LoginTypeFilter)
    list_select_related = ("settings__plan",)
    search_fields = ("email", "display_name")
    readonly_fields = (
        "date_joined",
        "last_login",
        "updated_at",
        "plan_and_quota",
        "storage",
        "last_activity",
        "activity",
    )
    inlines = (UserSettingsInline, SocialAccountInline, DeviceInline, ApiKeyInline)
    actions = ("deactivate_and_sign_out", "reactivate", "unlock_sign_in")
    # Buttons at the top of a user's page; each asks for confirmation (a POST), never acts on a GET.
    actions_detail = ("deactivate_user", "reactivate_user", "grant_plan", "revoke_sessions", "reset_quota")
    fieldsets = (
        (_("At a glance"), {"fields": ("plan_and_quota", "storage", "last_activity", "activity")}),
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("display_name",)}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_queryset(self, request):
        # One annotated query for the list, not one per row.
        return (
            super()
            .get_queryset(request)
            .annotate(_active_devices=Count("devices", filter=Q(devices__revoked_at__isnull=True), distinct=True))
        )

    @admin.display(description=_("plan"), ordering="settings__plan__order")
    def plan(self, obj):
        settings_row = getattr(obj, "settings", None)
        return settings_row.plan.name if settings_row else "-"

    @admin.display(description=_("active devices"), ordering="_active_devices")
    def active_devices(self, obj):
        return obj._active_devices

    def get_inlines(self, request, obj):
        # Not on the add page: save_model creates the settings row, and a filled-in settings
        # inline would then try to insert a second one.
        return self.inlines if obj is not None else ()

    def delete_model(self, request, obj):
        # The stock delete page and "Delete selected" go through the one account deletion too
        # (files on disk, tokens, sign-in records), recorded in the audit trail.
        with transaction.atomic():
            record_staff_action([obj], action="delete account and all data", changes={"email": [obj.email, None]})
            services.user_delete(user=obj)

    def get_deleted_objects(self, objs, request):
        # The summary lists what goes; the per-model delete permissions of what a user owns (API
        # keys and devices cannot be deleted one by one in the admin) do not stop the account's
        # deletion, which has its own rules (services.user_delete).
        deleted, model_count, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, model_count, set(), protected

    def delete_queryset(self, request, queryset):
        # A superuser among them is refused before this (console/guard.py).
        for user in queryset.exclude(pk=request.user.pk):
            self.delete_model(request, user)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            services.user_settings_get(user=obj)  # every user has settings and a plan

    @admin.action(description=_("Deactivate and sign out everywhere"), permissions=["change"])
    def deactivate_and_sign_out(self, request, queryset):
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, SELF_REFUSAL.format(what="deactivate"), messages.ERROR)
            queryset = queryset.exclude(pk=request.user.pk)
        # Superusers were left out already, for staff who are not one (console/guard.py).
        targets = list(queryset.filter(is_active=True))
        count = services.users_deactivate(users=queryset)
        record_staff_action(targets, action="deactivate and sign out everywhere", changes={"is_active": [True, False]})
        if count or targets:
            self.message_user(
                request,
                f"Deactivated {count} user(s), signed out all their devices and revoked their API keys.",
                messages.SUCCESS,
            )
        elif queryset.exists():
            self.message_user(request, "The selected users were already inactive.", messages.INFO)

    @admin.action(description=_("Reactivate"), permissions=["change"])
    def reactivate(self, request, queryset):
        targets = list(queryset.filter(is_active=False))
        count = services.users_reactivate(users=queryset)
        record_staff_action(targets, action="reactivate", changes={"is_active": [False, True]})
        self.message_user(request, f"Reactivated {count} user(s).", messages.SUCCESS)

    # --- the user's page: what an operator reads first, and what they act with -----------------

    @admin.display(description=_("plan and quota today"))
    def plan_and_quota(self, obj):
        if obj.pk is None:
            return "-"
        settings_row = services.user_settings_get(user=obj)
        usage = daily_usage(settings_row=settings_row)
        limit = usage.daily_message_limit or _("no limit")
        return (
            f"{settings_row.plan.name}: {usage.messages_sent} of {limit} messages sent today (resets at midnight UTC)"
        )

    @admin.display(description=_("storage"))
    def storage(self, obj):
        if obj.pk is None:
            return "-"
        usage = storage_usage(settings_row=services.user_settings_get(user=obj))
        limit = size_text(usage.limit_bytes) if usage.limit_bytes is not None else _("no limit")
        return f"{size_text(usage.used_bytes)} of {limit} used by files"

    @admin.display(description=_("last activity"))
    def last_activity(self, obj):
        if obj.pk is None:
            return "-"
        moments = [
            ("signed in", obj.last_login),
            ("seen on a device", obj.devices.aggregate(last=Max("last_seen_at"))["last"]),
            ("used an API key", obj.api_keys.aggregate(last=Max("last_used_at"))["last"]),
        ]
        dated = [(when, what) for what, when in moments if when is not None]
        if not dated:
            return _("never")
        when, what = max(dated)
        return f"{date_format(timezone.localtime(when), 'DATETIME_FORMAT')} ({what})"

    @admin.display(description=_("activity"))
    def activity(self, obj):
        if obj.pk is None:
            return "-"
        links = [
            (
                reverse("admin:conversations_conversation_changelist"),
                {"owner__id__exact": obj.pk},
                "conversations",
                obj.conversations.count(),
            ),
            (
                reverse("admin:conversations_feedback_changelist"),
                {"user__id__exact": obj.pk},
                "feedback given",
                obj.feedback.count(),
            ),
            (reverse("admin:accounts_device_changelist"), {"user__id__exact": obj.pk}, "devices", obj.devices.count()),
            (
                reverse("admin:accounts_apikey_changelist"),
                {"user__id__exact": obj.pk},
                "API keys",
                obj.api_keys.count(),
            ),
        ]
        return format_html_join(
            " · ", '<a href="{}?{}">{} {}</a>', ((url, urlencode(q), n, label) for url, q, label, n in links)
        )

    def _refuse_self(self, request, user, what: str):
        refusal = None
        if user.pk == request.user.pk:
            refusal = SELF_REFUSAL.format(what=what)
        elif not may_act_on(request.user, user):
            refusal = SUPERUSER_REFUSAL.format(what=what)
        if refusal is None:
            return None
        self.message_user(request, refusal, messages.ERROR)
        return redirect(reverse("admin:accounts_user_change", args=[user.pk]))

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser hands out (or takes back) superuser rights and permissions.
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and not request.user.is_superuser:
            fields = (*fields, "is_superuser", "groups", "user_permissions")
        return fields

    def _confirm_or_do(self, request, object_id, *, what, title, text, button, do, plans=None):
        """GET: a confirmation page; POST: ``do(user)`` (returns the success message), recorded in
        the audit trail by the caller, then back to the user's page."""
        if not str(object_id).isdigit():
            raise Http404("No such user.")
        user = get_object_or_404(User, pk=object_id)
        refused = self._refuse_self(request, user, what)
        if refused is not None:
            return refused
        back = reverse("admin:accounts_user_change", args=[user.pk])
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "title": title,
                "action_title": title,
                "action_text": text.format(user=user.email),
                "action_button": button,
                "back_url": back,
                "plans": plans,
                "current_plan": getattr(getattr(user, "settings", None), "plan", None) and user.settings.plan.slug,
                "opts": self.opts,
            }
            return TemplateResponse(request, "admin/accounts/user/confirm_action.html", context)
        result = do(user)
        if isinstance(result, HttpResponseBase):
            return result
        self.message_user(request, result, messages.SUCCESS)
        return redirect(back)

    @unfold_action(description=_("Deactivate"), url_path="deactivate", permissions=["change"], icon="block")
    def deactivate_user(self, request, object_id):
        def do(user):
            services.users_deactivate(users=User.objects.filter(pk=user.pk))
            record_staff_action(
                [user], action="deactivate and sign out everywhere", changes={"is_active": [True, False]}
            )
            return f"{user.email} is deactivated: signed out on every device, API keys revoked."

        return self._confirm_or_do(
            request,
            object_id,
            what="deactivate",
            title=_("Deactivate this user?"),
            text="{user} can no longer sign in; every device is signed out and every API key revoked at once.",
            button=_("Deactivate and sign out everywhere"),
            do=do,
        )

    @unfold_action(description=_("Reactivate"), url_path="reactivate", permissions=["change"], icon="check_circle")
    def reactivate_user(self, request, object_id):
        def do(user):
            services.users_reactivate(users=User.objects.filter(pk=user.pk))
            record_staff_action([user], action="reactivate", changes={"is_active": [False, True]})
            return f"{user.email} can sign in again (old sessions and API keys stay revoked)."

        return self._confirm_or_do(
            request,
            object_id,
            what="reactivate",
            title=_("Reactivate this user?"),
            text="{user} can sign in again.",
            button=_("Reactivate"),
            do=do,
        )

    @unfold_action(description=_("Grant plan"), url_path="grant-plan", permissions=["change"], icon="workspace_premium")
    def grant_plan(self, request, object_id):
        def do(user):
            slug = request.POST.get("plan", "")
            old = services.user_settings_get(user=user).plan.slug
            try:
                services.user_settings_update(user=user, by_staff=True, plan=slug)
            except ValidationError:
                self.message_user(request, f"No plan '{slug[:40]}'.", messages.ERROR)
                return redirect(reverse("admin:accounts_user_change", args=[user.pk]))
            record_staff_action([user], action="grant plan", changes={"plan": [old, slug]})
            return f"{user.email} is now on the {slug} plan."

        return self._confirm_or_do(
            request,
            object_id,
            what="grant a plan to",
            title=_("Grant a plan"),
            text="Choose the plan {user} is on from now.",
            button=_("Grant plan"),
            do=do,
            plans=list(Plan.objects.order_by("order", "id")),
        )

    @unfold_action(
        description=_("Revoke all sessions"), url_path="revoke-sessions", permissions=["change"], icon="logout"
    )
    def revoke_sessions(self, request, object_id):
        def do(user):
            count = services.devices_revoke_all(user=user)
            record_staff_action([user], action="revoke all sessions", changes={"active devices": [count, 0]})
            return f"Signed {user.email} out of {count} device(s). API keys are left alone (revoke them in API keys)."

        return self._confirm_or_do(
            request,
            object_id,
            what="revoke the sessions of",
            title=_("Revoke all sessions?"),
            text="{user} is signed out on every device and must sign in again; the account stays active.",
            button=_("Revoke all sessions"),
            do=do,
        )

    @unfold_action(
        description=_("Reset today's quota"), url_path="reset-quota", permissions=["change"], icon="restart_alt"
    )
    def reset_quota(self, request, object_id):
        def do(user):
            before = daily_usage(settings_row=services.user_settings_get(user=user)).messages_sent
            quota_reset(settings_rows=UserSettings.objects.filter(user=user))
            record_staff_action([user], action="reset today's quota", changes={"messages sent today": [before, 0]})
            return f"{user.email}'s messages sent today no longer count: a full day's quota until midnight UTC."

        return self._confirm_or_do(
            request,
            object_id,
            what="reset the quota of",
            title=_("Reset today's quota?"),
            text="The messages {user} sent today stop counting against the daily limit until midnight UTC.",
            button=_("Reset today's quota"),
            do=do,
        )

    @admin.action(description=_("Unlock sign-in (forget failed passwords)"), permissions=["change"])
    def unlock_sign_in(self, request, queryset):
        users = list(queryset)
        emails = [user.email for user in users]
        for email in emails:
            lockout.unlock(email=email)
        record_staff_action(users, action="unlock sign-in (forget failed passwords)")
        self.message_user(
            request, f"Forgot the failed passwords of {len(emails)} user(s), from every address.", messages.SUCCESS
        )

    @unfold_action(
        description=_("Delete account and all data"), url_path="delete-account", permissions=["delete"], icon="delete"
    )
    def delete_account(self, request, object_id):
        def do(user):
            # Written first, in the deletion's transaction: the entry keeps the account's id and
            # email once the row is gone, and goes away with it if the deletion fails.
            with transaction.atomic():
                record_staff_action([user], action="delete account and all data", changes={"email": [user.email, None]})
                deleted = services.user_delete(user=user)
            self.message_user(
                request,
                f"Deleted {deleted.email}: {deleted.conversations} conversation(s) and everything else the account "
                f"owned, {deleted.files} stored file(s).",
                messages.SUCCESS,
            )
            return redirect(reverse("admin:accounts_user_changelist"))

        return self._confirm_or_do(
            request,
            object_id,
            what="delete",
            title=_("Delete this account and all its data?"),
            text="{user} and everything the account owns (conversations, collector items and files, todos, shares, "
            "API keys, sessions, feedback, settings, social accounts) are deleted for good. This cannot be undone.",
            button=_("Delete account and all data"),
            do=do,
        )

    @unfold_action(description=_("Export data"), url_path="export-data", permissions=["change"], icon="download")
    def export_data(self, request, object_id):
        def do(user):
            # Imported here: portability depends on accounts, not the other way round.
            from portability.services import user_export_start

            export = user_export_start(user=user)
            record_staff_action([user], action="export the account's data")
            link = reverse("admin:portability_export_change", args=[export.pk])
            self.message_user(
                request,
                format_html(
                    'An export of {}\'s data is queued (<a href="{}">export {}</a>): a zip of their profile, '
                    "settings, conversations, collector items and files, todos and shares, which they can also "
                    "download themselves (GET /api/v1/user/exports/{}/download).",
                    user.email,
                    link,
                    export.pk,
                    export.pk,
                ),
                messages.SUCCESS,
            )
            return redirect(reverse("admin:accounts_user_change", args=[user.pk]))

        return self._confirm_or_do(
            request,
            object_id,
            what="export the data of",
            title=_("Export this user's data?"),
            text="A zip of everything {user} owns is made by the background worker (a data request).",
            button=_("Export data"),
            do=do,
        )

    actions_detail = (*actions_detail, "export_data", "delete_account")


class DeviceStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (("active", _("Active")), ("revoked", _("Revoked")))

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(Device)
class DeviceAdmin(ModelAdmin):
    list_display = ("__str__", "user", "login_type", "ip", "created_at", "last_seen_at", "revoked_at")
    list_filter = (DeviceStatusFilter, "login_type")
    list_select_related = ("user",)
    search_fields = ("user__email", "device_id", "name", "ip")
    raw_id_fields = ("user",)
    readonly_fields = ("id", "token_family", "refresh_jti", "created_at", "last_seen_at", "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request) -> bool:
        return False  # sessions are created by signing in

    @admin.action(description=_("Revoke (sign out) selected devices"), permissions=["change"])
    def revoke(self, request, queryset):
        targets = list(queryset.filter(revoked_at__isnull=True).select_related("user"))
        count = services.devices_revoke(devices=queryset)
        record_staff_action([d.user for d in targets], action=f"revoke device session(s) ({len(targets)})")
        self.message_user(request, f"Revoked {count} device session(s).", messages.SUCCESS)


class ApiKeyStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (("usable", _("Usable")), ("expired", _("Expired")), ("revoked", _("Revoked")))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "usable":
            return queryset.filter(pk__in=ApiKey.objects.usable(now=now).values("pk"))
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(ModelAdmin):
    """Keys are made by their users through the API and their secrets are never stored, so there
    is no add form; staff see who has which key, when it was last used, and revoke it."""

    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = (ApiKeyStatusFilter, "created_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("user__email", "name", "prefix")
    fields = ("user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields  # the user's own; staff revoke it (the action) rather than change it
    ordering = ("-created_at", "-id")
    actions = ("revoke",)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Revoked, never deleted: a key's conversations keep it as their source in the usage figures.
        return False

    def has_add_permission(self, request) -> bool:
        return False  # a key is made by its user, who alone ever sees the secret

    @admin.action(description=_("Revoke selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        targets = list(queryset.filter(revoked_at__isnull=True))
        count = services.api_keys_revoke(keys=queryset)
        record_staff_action(targets, action="revoke API key", changes={"revoked": [False, True]})
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)


@admin.register(Plan)
class PlanAdmin(ConsoleImportExportMixin, ModelAdmin):
    resource_classes = [PlanResource]
    list_display = (
        "name",
        "slug",
        "daily_message_limit",
        "max_concurrent_generations",
        "storage_limit_bytes",
        "selectable_by_user",
        "subscriber_count",
        "order",
    )
    list_editable = ("order",)
    list_filter = ("selectable_by_user",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_subscribers=Count("subscribers"))

    @admin.display(description=_("subscribers"), ordering="_subscribers")
    def subscriber_count(self, obj):
        return obj._subscribers


# allauth registers SocialAccount with a provider filter; ours adds the join for the user column
# and the dates, so the list costs one query whatever its length.
admin.site.unregister(SocialAccount)


@admin.register(SocialAccount)
class SocialAccountAdmin(AllauthSocialAccountAdmin, ModelAdmin):
    list_display = ("user", "provider", "uid", "date_joined", "last_login")
    list_filter = ("provider", "date_joined")
    list_select_related = ("user",)
    readonly_fields = ("provider", "uid", "extra_data", "date_joined", "last_login")
    ordering = ("-date_joined",)


# axes' "access attempts" and "access failures" pages show and reset sign-in lockouts; its access
# log stays empty here (AXES_DISABLE_ACCESS_LOG: sign-ins are the Device sessions above).
if admin.site.is_registered(AccessLog):
    admin.site.unregister(AccessLog)
