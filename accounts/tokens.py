"""Issuing and reading JWTs bound to a Device session (simplejwt underneath).

Every token carries ``sid`` (the Device id) and ``fam`` (the device's token family), so a device
can be revoked at once and a new login on a device retires every token of the previous one.
"""

from dataclasses import dataclass
from datetime import timedelta

from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.tokens import RefreshToken

SESSION_ID_CLAIM = "sid"
FAMILY_CLAIM = "fam"


class TokenInvalid(Exception):
    """A token that is malformed, tampered, expired, of the wrong type or of a dead session."""


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    refresh_jti: str
    expires_in: int

    def as_response(self) -> dict:
        return {
            "access": self.access,
            "refresh": self.refresh,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }


def _lifetime_seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


def token_pair_for_device(device) -> TokenPair:
    # for_user also records an OutstandingToken row (token_blacklist app), so the refresh
    # token can be blacklisted after rotation and purged once expired.
    refresh = RefreshToken.for_user(device.user)
    refresh[SESSION_ID_CLAIM] = str(device.pk)
    refresh[FAMILY_CLAIM] = str(device.token_family)
    access = refresh.access_token  # copies sid/fam/user_id; gets its own jti/exp
    return TokenPair(
        access=str(access),
        refresh=str(refresh),
        refresh_jti=refresh[api_settings.JTI_CLAIM],
        expires_in=_lifetime_seconds(api_settings.ACCESS_TOKEN_LIFETIME),
    )


def decode_refresh(raw: str) -> dict:
    """Verify signature, algorithm, expiry, audience, issuer and type; return the claims."""
    if not isinstance(raw, str) or not raw or len(raw) > 4096:
        raise TokenInvalid("Token is invalid or expired")
    try:
        payload = token_backend.decode(raw, verify=True)
    except TokenBackendError as exc:
        raise TokenInvalid("Token is invalid or expired") from exc
    if payload.get(api_settings.TOKEN_TYPE_CLAIM) != "refresh":
        raise TokenInvalid("Token has wrong type")
    for claim in (SESSION_ID_CLAIM, FAMILY_CLAIM, api_settings.JTI_CLAIM, api_settings.USER_ID_CLAIM):
        if claim not in payload:
            raise TokenInvalid("Token is missing a required claim")
    return payload
