from contextlib import nullcontext

from auditlog.context import set_actor
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.http import client_ip
from core.openapi import ApiAutoSchema, ErrorSerializer

from .. import lockout, selectors, services
from ..authentication import current_device
from ..tokens import TokenInvalid
from . import serializers as s
from .throttles import LoginIPThrottle, RefreshIPThrottle, RegisterIPThrottle

_ERROR = ErrorSerializer
_LOCKED_OUT = OpenApiResponse(
    _ERROR,
    "Too many failed passwords (code `too_many_failed_logins`): 10 per account and address or 50 per "
    "address within 15 minutes, or 100 on the account within 60 minutes from addresses it has not "
    "signed in from lately; `Retry-After` says in how many seconds it lifts (a password reset lifts "
    "the account's at once)",
)


def _user_agent(request) -> str:
    return request.headers.get("User-Agent", "")[:512]


class PublicAuthView(APIView):
    """No bearer needed; failures still answer 401 with a WWW-Authenticate challenge."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'


# The one answer, whether or not the email already had an account.
REGISTERED = (
    "Registration received: sign in with this email and password. "
    "An email that already has an account keeps it unchanged."
)


class RegisterView(PublicAuthView):
    throttle_classes = [RegisterIPThrottle]

    @extend_schema(
        tags=["auth"],
        summary="Create an account",
        description=(
            "Answers 202 with the same body whether or not the email already has an account, so it never "
            "tells who is registered: a new email gets its account, a taken one changes nothing (its owner "
            "is mailed a notice). Then sign in (`POST /auth/login`) with the same email and password; for "
            "a taken email that fails as any wrong password does (401 `invalid_credentials`). A password "
            "the rules refuse is a 400 naming `password`, whichever the email."
        ),
        request=s.RegisterSerializer,
        responses={202: s.RegisterResponseSerializer, 400: None},
    )
    def post(self, request):
        data = s.RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_register(**data.validated_data, site_url=request.build_absolute_uri("/"))
        return Response({"detail": REGISTERED}, status=status.HTTP_202_ACCEPTED)


SWAGGER_DEVICE_ID = "api-docs"


class LoginView(PublicAuthView):
    parser_classes = [JSONParser, FormParser]  # form-encoded: Swagger's Authorize (OAuth2 password flow)
    # Failed passwords are limited by accounts.lockout (axes' backend refuses a locked-out attempt
    # inside authenticate(), its middleware answers the 429); this only caps attempts per address.
    throttle_classes = [LoginIPThrottle]

    @extend_schema(
        tags=["auth"],
        summary="Sign in on a device (email and password)",
        request={"application/json": s.LoginSerializer, "application/x-www-form-urlencoded": s.LoginSerializer},
        responses={
            200: s.LoginResponseSerializer,
            401: OpenApiResponse(_ERROR, "Invalid email or password"),
            429: _LOCKED_OUT,
        },
    )
    def post(self, request):
        data = s.LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        # authenticate() hashes even for unknown emails, so timing does not reveal accounts.
        user = authenticate(request._request, username=v["email"], password=v["password"])
        if user is None:
            raise AuthenticationFailed("Invalid email or password.", code="invalid_credentials")
        # A sign-in like any other: axes forgets this account's failures from this address, and
        # last_login ends the account's run of consecutive failures.
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        swagger_form = "username" in request.data and request.content_type.startswith(
            "application/x-www-form-urlencoded"
        )
        session = services.session_start(
            user=user,
            # Swagger's Authorize dialog sends no device id: renew one "API docs" session per user
            # instead of adding a device at every authorization.
            device_id=v.get("device_id") or (SWAGGER_DEVICE_ID if swagger_form else None),
            device_name=v.get("device_name", ""),
            user_agent=_user_agent(request),
            ip=client_ip(request),
        )
        body = {
            **session.tokens.as_response(),
            "device": s.DeviceBriefSerializer(session.device).data,
            "user": s.UserSerializer(user).data,
        }
        if swagger_form:
            # The OAuth2 names (RFC 6749 5.1) too: Swagger's password flow sends access_token;
            # its renewal (accounts/static/accounts/api_docs_auth.js) reads refresh_token.
            body["access_token"] = session.tokens.access
            body["refresh_token"] = session.tokens.refresh
        return Response(body)


class RefreshView(PublicAuthView):
    throttle_classes = [RefreshIPThrottle]

    @extend_schema(
        tags=["auth"],
        summary="Renew the device's tokens (rotates the refresh token)",
        request=s.RefreshSerializer,
        responses={200: s.TokenPairSerializer, 401: OpenApiResponse(_ERROR, "token_not_valid or token_reused")},
    )
    def post(self, request):
        data = s.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            session = services.session_refresh(
                refresh_token=data.validated_data["refresh"], ip=client_ip(request), user_agent=_user_agent(request)
            )
        except services.TokenReused as exc:
            raise AuthenticationFailed(
                "This refresh token was already used; the session has been signed out.", code="token_reused"
            ) from exc
        except TokenInvalid as exc:
            raise AuthenticationFailed("Token is invalid or expired.", code="token_not_valid") from exc
        return Response(session.tokens.as_response())


class LogoutView(APIView):
    @extend_schema(
        tags=["auth"], summary="Sign out (this device, or all)", request=s.LogoutSerializer, responses={204: None}
    )
    def post(self, request):
        data = s.LogoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["all"]:
            services.devices_revoke_all(user=request.user)
        else:
            services.device_revoke(device=current_device(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    @extend_schema(
        tags=["auth"],
        summary="Change your password (signs your other devices out)",
        request=s.PasswordChangeSerializer,
        responses={204: None, 400: None, 429: _LOCKED_OUT},
    )
    def post(self, request):
        data = s.PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Under the sign-in limits: a wrong current password is a failed sign-in of this account
        # from this address (a stolen session cannot guess on), and a locked-out one answers 429.
        old_password = data.validated_data["old_password"]
        if not lockout.check_password(request._request, user=request.user, password=old_password):
            raise ValidationError({"old_password": ["The current password is not correct."]}, code="password_incorrect")
        services.password_change(user=request.user, current_device=current_device(request), **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- profile and settings -------------------------------------------------------------------


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


@extend_schema(tags=["user"])
class ProfileView(APIView):
    schema = _BodyOnDeleteSchema()

    @extend_schema(summary="Your profile", responses=s.UserSerializer)
    def get(self, request):
        return Response(s.UserSerializer(request.user).data)

    @extend_schema(summary="Change your display name", request=s.UserUpdateSerializer, responses=s.UserSerializer)
    def patch(self, request):
        data = s.UserUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, **data.validated_data)
        return Response(s.UserSerializer(user).data)

    @extend_schema(
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
    )
    def delete(self, request):
        data = s.AccountDeleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.account_delete_confirmed(
            request=request._request,
            user=request.user,
            password=data.validated_data.get("password"),
            confirm=data.validated_data.get("confirm"),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SettingsPartView(APIView):
    """GET, PUT (all fields of the part) and PATCH (some) of one user's settings."""

    serializer_class: type[serializers.Serializer] = s.UserSettingsSerializer
    staff_serializer_class: type[serializers.Serializer] | None = None
    by_staff = False
    part = "settings"  # what the summaries call this part: "Read your {part}"...
    refusals = {403: OpenApiResponse(_ERROR, "plan_not_selectable: staff grant that plan")}

    def get_target_user(self):
        return self.request.user

    def get_serializer_class(self):
        return (self.by_staff and self.staff_serializer_class) or self.serializer_class

    def schema_summary(self, method: str) -> str:
        whose = "" if self.part.startswith("a user's") else "your "
        verb = {"GET": "Read", "PUT": "Replace", "PATCH": "Change some of"}[method]
        return f"Staff: {verb.lower()} {whose}{self.part}" if self.by_staff else f"{verb} {whose}{self.part}"

    def get(self, request, **kwargs):
        row = services.user_settings_get(user=self.get_target_user())
        return Response(self.get_serializer_class()(row).data)

    def _write(self, request, partial: bool):
        data = self.get_serializer_class()(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        # A staff change names its author in the audit trail, as the admin's do (ConsoleAdminSite).
        audited = set_actor(request.user, remote_addr=client_ip(request)) if self.by_staff else nullcontext()
        with audited:
            row = services.user_settings_update(
                user=self.get_target_user(), by_staff=self.by_staff, **data.validated_data
            )
        return Response(self.get_serializer_class()(row).data)

    def put(self, request, **kwargs):
        return self._write(request, partial=False)

    def patch(self, request, **kwargs):
        return self._write(request, partial=True)


@extend_schema(tags=["user"])
class UserSettingsView(SettingsPartView):
    serializer_class = s.UserSettingsSerializer
    part = "settings"


@extend_schema(tags=["user"])
class ThemeView(SettingsPartView):
    serializer_class = s.ThemeSerializer
    part = "theme and language"


@extend_schema(tags=["user"])
class NotificationView(SettingsPartView):
    serializer_class = s.NotificationSerializer
    part = "notification settings"


class StaffTargetMixin:
    permission_classes = [IsAdminUser]
    by_staff = True

    def get_target_user(self):
        return get_object_or_404(selectors.user_list(), pk=self.kwargs["user_id"])


@extend_schema(tags=["staff"])
class StaffUserSettingsView(StaffTargetMixin, SettingsPartView):
    serializer_class = s.UserSettingsSerializer
    part = "a user's settings"
    staff_serializer_class = s.StaffUserSettingsSerializer
    http_method_names = ["get", "put", "patch", "options"]
