"""Reads for accounts, already scoped."""

from .models import ApiKey, Device, Plan, User


def device_list(*, user: User):
    """The user's live sessions, most recently seen first."""
    return Device.objects.active().filter(user=user).order_by("-last_seen_at", "id")


def api_key_list(*, user: User):
    """The user's keys that are not revoked (expired ones too, so they can be seen and removed),
    newest first. Never the secret: only its hash is stored."""
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-id")


def user_list():
    return User.objects.select_related("settings__plan").order_by("id")


def plan_list():
    return Plan.objects.order_by("order", "id")
