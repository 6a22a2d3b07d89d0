from allauth.socialaccount.admin import SocialAccountAdmin as AllauthSocialAccountAdmin
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessLog
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, StackedInline, TabularInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from . import services
from .models import ApiKey, Device, Plan, User, UserSettings


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
class UserAdmin(DjangoUserAdmin, ModelAdmin):
    """Users by email, with their settings, linked sign-in providers, devices and API keys. The
    operator's console registers its subclass in place of this one (``console/admin/accounts.py``):
    the page's "At a glance" and actions, the bulk actions, import and export."""

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
    readonly_fields = ("date_joined", "last_login", "updated_at")
    inlines = (UserSettingsInline, SocialAccountInline, DeviceInline, ApiKeyInline)
    fieldsets = (
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
        # (files on disk, tokens, sign-in records).
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

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser hands out (or takes back) superuser rights and permissions.
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and not request.user.is_superuser:
            fields = (*fields, "is_superuser", "groups", "user_permissions")
        return fields


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

    def has_add_permission(self, request) -> bool:
        return False  # sessions are created by signing in


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
    is no add form; staff see who has which key and when it was last used (the console revokes)."""

    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = (ApiKeyStatusFilter, "created_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("user__email", "name", "prefix")
    fields = ("user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields  # the user's own; staff revoke it (the console's action) rather than change it
    ordering = ("-created_at", "-id")

    def has_delete_permission(self, request, obj=None) -> bool:
        # Revoked, never deleted: a key's conversations keep it as their source in the usage figures.
        return False

    def has_add_permission(self, request) -> bool:
        return False  # a key is made by its user, who alone ever sees the secret


@admin.register(Plan)
class PlanAdmin(ModelAdmin):
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
