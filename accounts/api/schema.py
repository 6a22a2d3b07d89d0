"""The OpenAPI description of the accounts API (``views.py``, ``viewsets.py``, and the social
login's ``social/exchange.py``): one declaration per view. ``settings_part`` also declares the
subscription part conversations serves."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema

from core.openapi import INVALID_INPUT, ApiAutoSchema, ErrorSerializer, view_schema

from .. import services
from . import serializers as s

_LOCKED_OUT = OpenApiResponse(
    ErrorSerializer,
    "Too many failed passwords (code `too_many_failed_logins`): 10 per account and address or 50 per "
    "address within 15 minutes, or 100 on the account within 60 minutes from addresses it has not "
    "signed in from lately; `Retry-After` says in how many seconds it lifts (a password reset lifts "
    "the account's at once)",
)


class _BodyOnDeleteSchema(ApiAutoSchema):
    """drf-spectacular documents request bodies on POST, PUT and PATCH only; ``DELETE /user``
    takes its confirmation (a password) in a JSON body, which OpenAPI allows on DELETE."""

    def _get_request_body(self, direction="request"):
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"


# --- signing in and out -----------------------------------------------------------------------

REGISTER = view_schema(
    tags=["auth"],
    post=extend_schema(
        summary="Create an account",
        description=(
            "Answers 202 with the same body whether or not the email already has an account, so it never "
            "tells who is registered: a new email gets its account, a taken one changes nothing (its owner "
            "is mailed a notice). Then sign in (`POST /auth/login`) with the same email and password; for "
            "a taken email that fails as any wrong password does (401 `invalid_credentials`). A password "
            "the rules refuse is a 400 naming `password`, whichever the email."
        ),
        request=s.RegisterSerializer,
        responses={202: s.RegisterResponseSerializer, 400: INVALID_INPUT},
    ),
)

LOGIN = view_schema(
    tags=["auth"],
    post=extend_schema(
        summary="Sign in on a device (email and password)",
        request=s.LoginSerializer,
        responses={
            200: s.LoginResponseSerializer,
            401: OpenApiResponse(ErrorSerializer, "Invalid email or password"),
            429: _LOCKED_OUT,
        },
    ),
)

REFRESH = view_schema(
    tags=["auth"],
    post=extend_schema(
        summary="Renew the device's tokens (rotates the refresh token)",
        request=s.RefreshSerializer,
        responses={
            200: s.TokenPairSerializer,
            401: OpenApiResponse(ErrorSerializer, "token_not_valid or token_reused"),
        },
    ),
)

SOCIAL_EXCHANGE = view_schema(
    tags=["auth"],
    post=extend_schema(
        summary="Finish a social login (redirect flow)",
        request=s.SocialExchangeSerializer,
        responses={
            200: s.LoginResponseSerializer,
            400: OpenApiResponse(description="A field is missing or malformed; the body names it."),
            401: OpenApiResponse(ErrorSerializer, "The code is unknown, expired or already used"),
        },
    ),
)

LOGOUT = view_schema(
    tags=["auth"],
    post=extend_schema(summary="Sign out (this device, or all)", request=s.LogoutSerializer, responses={204: None}),
)

PASSWORD_RULES = view_schema(
    tags=["auth"],
    get=extend_schema(
        summary="The password rules, in words (public)",
        description=(
            "What a new password must satisfy (sign-up, password change, reset), made from the rules the server "
            "enforces: show them as hints. `text` is in the request's language (`Accept-Language`, or a signed-in "
            "user's saved language); `code` never changes with it."
        ),
        responses={200: s.PasswordRulesSerializer},
    ),
)

PASSWORD_CHANGE = view_schema(
    tags=["auth"],
    post=extend_schema(
        summary="Change your password (signs your other devices out)",
        request=s.PasswordChangeSerializer,
        responses={204: None, 400: INVALID_INPUT, 429: _LOCKED_OUT},
    ),
)

DEVICES = view_schema(
    tags=["auth"],
    list=extend_schema(summary="List your signed-in devices (sessions)"),
    destroy=extend_schema(summary="Sign a device out", responses={204: None}),
)

# --- API keys ---------------------------------------------------------------------------------

API_KEYS = view_schema(
    tags=["api keys"],
    list=extend_schema(summary="List your API keys (never their secrets)"),
    create=extend_schema(
        summary="Make an API key (its secret is shown only in this answer)",
        description="The key works on the OpenAI-compatible API (`Authorization: Bearer sk-...`), not on this one. "
        "Only a hash of it is stored: keep the `key` now, it cannot be shown again.",
        request=s.ApiKeyCreateSerializer,
        responses={
            201: s.ApiKeyCreatedSerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                f"too_many_api_keys: you already have {services.API_KEYS_PER_USER} keys; revoke one first",
            ),
        },
    ),
    destroy=extend_schema(summary="Revoke an API key (it stops working at once)", responses={204: None}),
)

# --- the account and its settings -------------------------------------------------------------

PLANS = view_schema(tags=["user"], list=extend_schema(summary="List the plans and their limits (public)"))

PROFILE = view_schema(
    tags=["user"],
    schema_class=_BodyOnDeleteSchema,
    get=extend_schema(summary="Your profile", responses=s.UserSerializer),
    patch=extend_schema(summary="Change your display name", request=s.UserUpdateSerializer, responses=s.UserSerializer),
    delete=extend_schema(
        summary="Delete your account and everything it owns",
        description=(
            "Deletes the account at once and for good: conversations and messages, collector items and their "
            "files, todos, shares (their links stop working), API keys, device sessions (every token stops "
            "working), feedback, settings, linked social accounts, imports and exports. Confirm with your "
            "current password (`password`); a wrong one is a 400 naming `password` and counts as a failed "
            "sign-in, like a password change's. An account without a password (signed up through a social "
            "provider) confirms with `confirm`: the words `DELETE` and its email (`DELETE ann@example.com`)."
        ),
        request=s.AccountDeleteSerializer,
        responses={
            204: None,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT, "`{password: [...]}` or `{confirm: [...]}`: the confirmation is missing or wrong"
            ),
            429: _LOCKED_OUT,
        },
    ),
)

# What a settings part's writes may refuse (core.openapi.ApiAutoSchema reads it).
SETTINGS_REFUSALS = {403: OpenApiResponse(ErrorSerializer, "plan_not_selectable: staff grant that plan")}


def settings_part(part: str, *, staff: bool = False):
    """The declaration of one part of a user's settings (``views.SettingsPartView``): read it (GET),
    replace it (PUT) or change some of it (PATCH), yours, or as staff a user's."""

    def summary(verb: str) -> str:
        return f"Staff: {verb.lower()} a user's {part}" if staff else f"{verb} your {part}"

    return view_schema(
        tags=["staff" if staff else "user"],
        get=extend_schema(summary=summary("Read")),
        put=extend_schema(summary=summary("Replace")),
        patch=extend_schema(summary=summary("Change some of")),
    )


USER_SETTINGS = settings_part("settings")
THEME = settings_part("theme and language")
NOTIFICATION = settings_part("notification settings")
STAFF_USER_SETTINGS = settings_part("settings", staff=True)
