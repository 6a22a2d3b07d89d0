"""The console's admins of accounts' models, registered in place of the plain ones of
``accounts/admin.py``: a user's page with what an operator reads first ("At a glance": plan and
quota, storage, last activity, activity links) and acts with (its page actions), the bulk actions
written to the audit trail, import and export of users and plans."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import Http404, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from unfold.decorators import action as unfold_action

from accounts import lockout, services
from accounts.admin import ApiKeyAdmin, DeviceAdmin, PlanAdmin, UserAdmin
from accounts.models import ApiKey, Device, Plan, User, UserSettings
from accounts.storage import size_text, storage_usage
from conversations.quota import daily_usage, quota_reset
from portability.services import user_export_start

from ..audit import record_staff_action
from ..guard import SUPERUSER_REFUSAL, may_act_on
from ..resources import ConsoleImportExportMixin, PlanResource, UserResource

SELF_REFUSAL = "You cannot {what} your own account: ask another staff member to do it."

for model in (User, Device, ApiKey, Plan):
    admin.site.unregister(model)


@admin.register(User)
class ConsoleUserAdmin(ConsoleImportExportMixin, UserAdmin):
    resource_classes = [UserResource]
    readonly_fields = (*UserAdmin.readonly_fields, "plan_and_quota", "storage", "last_activity", "activity")
    fieldsets = (
        (_("At a glance"), {"fields": ("plan_and_quota", "storage", "last_activity", "activity")}),
        *UserAdmin.fieldsets,
    )
    actions = ("deactivate_and_sign_out", "reactivate", "unlock_sign_in")
    # Buttons at the top of a user's page; each asks for confirmation (a POST), never acts on a GET.
    actions_detail = (
        "deactivate_user",
        "reactivate_user",
        "grant_plan",
        "revoke_sessions",
        "reset_quota",
        "export_data",
        "delete_account",
    )

    def delete_model(self, request, obj):
        # Recorded in the audit trail, in the deletion's transaction.
        with transaction.atomic():
            record_staff_action([obj], action="delete account and all data", changes={"email": [obj.email, None]})
            super().delete_model(request, obj)

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


@admin.register(Device)
class ConsoleDeviceAdmin(DeviceAdmin):
    actions = ("revoke",)

    @admin.action(description=_("Revoke (sign out) selected devices"), permissions=["change"])
    def revoke(self, request, queryset):
        targets = list(queryset.filter(revoked_at__isnull=True).select_related("user"))
        count = services.devices_revoke(devices=queryset)
        record_staff_action([d.user for d in targets], action=f"revoke device session(s) ({len(targets)})")
        self.message_user(request, f"Revoked {count} device session(s).", messages.SUCCESS)


@admin.register(ApiKey)
class ConsoleApiKeyAdmin(ApiKeyAdmin):
    actions = ("revoke",)

    @admin.action(description=_("Revoke selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        targets = list(queryset.filter(revoked_at__isnull=True))
        count = services.api_keys_revoke(keys=queryset)
        record_staff_action(targets, action="revoke API key", changes={"revoked": [False, True]})
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)


@admin.register(Plan)
class ConsolePlanAdmin(ConsoleImportExportMixin, PlanAdmin):
    resource_classes = [PlanResource]
