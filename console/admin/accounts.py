"""The console's admins of accounts' models, registered in place of the plain ones of
``accounts/admin.py``: a user's page with what an operator reads first ("At a glance": plan and
quota, storage, last activity, activity links) and acts with (its buttons, from the table in
``console/user_actions.py``), the bulk actions written to the audit trail, import and export of
users and plans."""

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts import lockout, services
from accounts.admin import ApiKeyAdmin, DeviceAdmin, PlanAdmin, UserAdmin
from accounts.models import ApiKey, Device, Plan, User
from accounts.storage import size_text, storage_usage
from conversations.quota import daily_usage

from ..audit import record_staff_action
from ..resources import ConsoleImportExportMixin, PlanResource, UserResource
from ..user_actions import SELF_REFUSAL, with_user_actions

for model in (User, Device, ApiKey, Plan):
    admin.site.unregister(model)


@admin.register(User)
@with_user_actions
class ConsoleUserAdmin(ConsoleImportExportMixin, UserAdmin):
    resource_classes = [UserResource]
    readonly_fields = (*UserAdmin.readonly_fields, "plan_and_quota", "storage", "last_activity", "activity")
    fieldsets = (
        (_("At a glance"), {"fields": ("plan_and_quota", "storage", "last_activity", "activity")}),
        *UserAdmin.fieldsets,
    )
    actions = ("deactivate_and_sign_out", "reactivate", "unlock_sign_in")
    # actions_detail, the buttons at the top of a user's page: console/user_actions.py.

    def delete_model(self, request, obj):
        # Recorded in the audit trail, in the deletion's transaction.
        with transaction.atomic():
            record_staff_action([obj], action="delete account and all data", changes={"email": [obj.email, None]})
            super().delete_model(request, obj)

    @admin.action(description=_("Deactivate and sign out everywhere"), permissions=["change"])
    def deactivate_and_sign_out(self, request, queryset):
        if queryset.filter(pk=request.user.pk).exists():
            what = pgettext_lazy("an action on an account", "deactivate")
            self.message_user(request, SELF_REFUSAL.format(what=what), messages.ERROR)
            queryset = queryset.exclude(pk=request.user.pk)
        # Superusers were left out already, for staff who are not one (console/guard.py).
        targets = list(queryset.filter(is_active=True))
        count = services.users_deactivate(users=queryset)
        record_staff_action(targets, action="deactivate and sign out everywhere", changes={"is_active": [True, False]})
        if count or targets:
            self.message_user(
                request,
                ngettext(
                    "Deactivated %(count)d user, signed out all their devices and revoked their API keys.",
                    "Deactivated %(count)d users, signed out all their devices and revoked their API keys.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS,
            )
        elif queryset.exists():
            self.message_user(request, gettext("The selected users were already inactive."), messages.INFO)

    @admin.action(description=_("Reactivate"), permissions=["change"])
    def reactivate(self, request, queryset):
        targets = list(queryset.filter(is_active=False))
        count = services.users_reactivate(users=queryset)
        record_staff_action(targets, action="reactivate", changes={"is_active": [False, True]})
        self.message_user(
            request,
            ngettext("Reactivated %(count)d user.", "Reactivated %(count)d users.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Unlock sign-in (forget failed passwords)"), permissions=["change"])
    def unlock_sign_in(self, request, queryset):
        users = list(queryset)
        emails = [user.email for user in users]
        for email in emails:
            lockout.unlock(email=email)
        record_staff_action(users, action="unlock sign-in (forget failed passwords)")
        self.message_user(
            request,
            ngettext(
                "Forgot the failed passwords of %(count)d user, from every address.",
                "Forgot the failed passwords of %(count)d users, from every address.",
                len(emails),
            )
            % {"count": len(emails)},
            messages.SUCCESS,
        )

    # --- the user's page: what an operator reads first ("At a glance") --------------------------

    @admin.display(description=_("plan and quota today"))
    def plan_and_quota(self, obj):
        if obj.pk is None:
            return "-"
        settings_row = services.user_settings_get(user=obj)
        usage = daily_usage(settings_row=settings_row)
        limit = usage.daily_message_limit or _("no limit")
        resets = timezone.localtime(usage.resets_at)
        return gettext(
            "%(plan)s: %(sent)s of %(limit)s messages sent today (resets at %(resets_at)s, %(time_zone)s)"
        ) % {
            "plan": settings_row.plan.name,
            "sent": usage.messages_sent,
            "limit": limit,
            "resets_at": date_format(resets, "DATETIME_FORMAT"),
            "time_zone": timezone.get_current_timezone_name(),
        }

    @admin.display(description=_("storage"))
    def storage(self, obj):
        if obj.pk is None:
            return "-"
        usage = storage_usage(settings_row=services.user_settings_get(user=obj))
        limit = size_text(usage.limit_bytes) if usage.limit_bytes is not None else _("no limit")
        return gettext("%(used)s of %(limit)s used by files") % {
            "used": size_text(usage.used_bytes),
            "limit": limit,
        }

    @admin.display(description=_("last activity"))
    def last_activity(self, obj):
        if obj.pk is None:
            return "-"
        moments = [
            (_("signed in"), obj.last_login),
            (_("seen on a device"), obj.devices.aggregate(last=Max("last_seen_at"))["last"]),
            (_("used an API key"), obj.api_keys.aggregate(last=Max("last_used_at"))["last"]),
        ]
        dated = [(when, what) for what, when in moments if when is not None]
        if not dated:
            return _("never")
        when, what = max(dated, key=lambda moment: moment[0])
        zone = timezone.get_current_timezone_name()
        return f"{date_format(timezone.localtime(when), 'DATETIME_FORMAT')} {zone} ({what})"

    @admin.display(description=_("activity"))
    def activity(self, obj):
        if obj.pk is None:
            return "-"
        links = [
            (
                reverse("admin:conversations_conversation_changelist"),
                {"owner__id__exact": obj.pk},
                _("conversations"),
                obj.conversations.count(),
            ),
            (
                reverse("admin:conversations_feedback_changelist"),
                {"user__id__exact": obj.pk},
                _("feedback given"),
                obj.feedback.count(),
            ),
            (
                reverse("admin:accounts_device_changelist"),
                {"user__id__exact": obj.pk},
                _("devices"),
                obj.devices.count(),
            ),
            (
                reverse("admin:accounts_apikey_changelist"),
                {"user__id__exact": obj.pk},
                _("API keys"),
                obj.api_keys.count(),
            ),
        ]
        return format_html_join(
            " · ", '<a href="{}?{}">{} {}</a>', ((url, urlencode(q), n, label) for url, q, label, n in links)
        )


@admin.register(Device)
class ConsoleDeviceAdmin(DeviceAdmin):
    actions = ("revoke",)

    @admin.action(description=_("Revoke (sign out) selected devices"), permissions=["change"])
    def revoke(self, request, queryset):
        targets = list(queryset.filter(revoked_at__isnull=True).select_related("user"))
        count = services.devices_revoke(devices=queryset)
        record_staff_action([d.user for d in targets], action=f"revoke device session(s) ({len(targets)})")
        self.message_user(
            request,
            ngettext("Revoked %(count)d device session.", "Revoked %(count)d device sessions.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(ApiKey)
class ConsoleApiKeyAdmin(ApiKeyAdmin):
    actions = ("revoke",)

    @admin.action(description=_("Revoke selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        targets = list(queryset.filter(revoked_at__isnull=True))
        count = services.api_keys_revoke(keys=queryset)
        record_staff_action(targets, action="revoke API key", changes={"revoked": [False, True]})
        self.message_user(
            request,
            ngettext("Revoked %(count)d API key.", "Revoked %(count)d API keys.", count) % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Plan)
class ConsolePlanAdmin(ConsoleImportExportMixin, PlanAdmin):
    resource_classes = [PlanResource]
