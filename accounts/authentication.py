"""Bearer-token authentication: JWTs bound to a live Device session, and personal API keys
(``ApiKeyAuthentication``, for the OpenAI-compatible API only), each in one database query."""

import uuid

from django.utils.translation import gettext as _
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings

from .models import Device
from .preferences import activate_for
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
            raise InvalidToken(_("Token is not bound to a session")) from exc
        device = live_sessions(sid=sid, user_id=user_id, family=family).select_related("user", "user__settings").first()
        if device is None:
            raise AuthenticationFailed(_("This session has been signed out."), code="session_revoked")
        user = device.user
        user.current_device = device  # views reach the session through request.user
        activate_for(user)  # the rest of the answer in the user's language and time zone
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


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer sk-...``: a personal API key. ``request.user`` is its owner,
    ``request.auth`` the ``ApiKey`` (with its user and plan loaded).

    Only views that list it use it: it is not in ``DEFAULT_AUTHENTICATION_CLASSES``, so the app's
    own API (``/api/v1/...``) keeps taking session tokens only and refuses a key (401). A bearer
    token that is not a key (no ``sk-``) is left to the other authenticators (None); a key that is
    unknown, revoked, expired or whose user is deactivated is refused at once (``invalid_api_key``).
    """

    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != self.keyword or not parts[1].startswith(b"sk-"):
            return None
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raw = None
        # Imported here: DRF's settings import this module while services (core.exceptions ->
        # rest_framework.views) is still being imported.
        from .services import api_key_authenticate

        key = api_key_authenticate(raw) if raw is not None else None
        if key is None:
            raise AuthenticationFailed(_("Invalid API key."), code="invalid_api_key")
        activate_for(key.user)
        return key.user, key

    def authenticate_header(self, request):
        # A 401 (with a challenge), not a 403, when credentials are missing or refused.
        return 'Bearer realm="api"'
