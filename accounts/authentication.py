"""Bearer-token authentication bound to a live Device session, in one database query."""

import uuid

from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings

from .models import Device
from .tokens import FAMILY_CLAIM, SESSION_ID_CLAIM


def live_sessions(*, sid, user_id, family):
    """The one rule for a usable session: the device exists, is not revoked, still holds this
    token family, and its user is active."""
    return Device.objects.filter(
        pk=sid, user_id=user_id, token_family=family, revoked_at__isnull=True, user__is_active=True
    )


def session_is_live(device: Device) -> bool:
    """For connections that outlive their request (streams): is the session still signed in?"""
    return live_sessions(sid=device.pk, user_id=device.user_id, family=device.token_family).exists()


class DeviceJWTAuthentication(JWTAuthentication):
    """simplejwt's access-token checks (signature, alg, exp, aud, iss, type) plus the session.

    The device, its user and the user's active flag come back in a single joined query, so a
    revoked device or a deactivated user is refused on the very next request.
    """

    def get_user(self, validated_token):
        try:
            sid = uuid.UUID(str(validated_token[SESSION_ID_CLAIM]))
            family = uuid.UUID(str(validated_token[FAMILY_CLAIM]))
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except (KeyError, ValueError) as exc:
            raise InvalidToken("Token is not bound to a session") from exc
        device = live_sessions(sid=sid, user_id=user_id, family=family).select_related("user").first()
        if device is None:
            raise AuthenticationFailed("This session has been signed out.", code="session_revoked")
        user = device.user
        user.current_device = device  # views reach the session through request.user
        return user


def current_device(request) -> Device | None:
    return getattr(request.user, "current_device", None)


class OptionalDeviceJWTAuthentication(DeviceJWTAuthentication):
    """For public reads that show more to some users (staff): a valid token counts, a stale or
    invalid one is ignored like no token at all, as on every other public endpoint."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except (AuthenticationFailed, InvalidToken):
            return None
