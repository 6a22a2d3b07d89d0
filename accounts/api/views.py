from contextlib import nullcontext

from auditlog.context import set_actor
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.http import client_ip

from .. import lockout, selectors, services
from ..authentication import OptionalDeviceJWTAuthentication, current_device
from ..backends import ACCOUNT_INACTIVE_MARK
from ..password_rules import password_rules
from ..tokens import TokenInvalid
from . import schema
from . import serializers as s
from .throttles import LoginIPThrottle, RefreshIPThrottle, RegisterIPThrottle


def _user_agent(request) -> str:
    return request.headers.get("User-Agent", "")[:512]


# No bearer needed; failures still answer 401 with a WWW-Authenticate challenge. (A comment: a
# docstring would be the OpenAPI description of the views that have none of their own.)
class PublicAuthView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'


# The one answer, whether or not the email already had an account.
REGISTERED = gettext_lazy(
    "Registration received: sign in with this email and password. "
    "An email that already has an account keeps it unchanged."
)


@schema.REGISTER
class RegisterView(PublicAuthView):
    throttle_classes = [RegisterIPThrottle]

    def post(self, request):
        data = s.RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_register(**data.validated_data, site_url=request.build_absolute_uri("/"))
        return Response({"detail": str(REGISTERED)}, status=status.HTTP_202_ACCEPTED)


SWAGGER_DEVICE_ID = "api-docs"


@schema.LOGIN
class LoginView(PublicAuthView):
    parser_classes = [JSONParser, FormParser]  # form-encoded: Swagger's Authorize (OAuth2 password flow)
    # Failed passwords are limited by accounts.lockout (axes' backend refuses a locked-out attempt
    # inside authenticate(), its middleware answers the 429); this only caps attempts per address.
    throttle_classes = [LoginIPThrottle]

    def post(self, request):
        data = s.LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        # authenticate() hashes even for unknown emails, so timing does not reveal accounts.
        user = authenticate(request._request, username=v["email"], password=v["password"])
        if user is None:
            # The right password of a deactivated account (accounts.backends): say so, since only
            # the owner can hear it; any wrong password gets the one answer, account or not.
            if getattr(request._request, ACCOUNT_INACTIVE_MARK, False):
                raise PermissionDenied(_("This account is deactivated."), code="account_inactive")
            raise AuthenticationFailed(_("Invalid email or password."), code="invalid_credentials")
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


@schema.REFRESH
class RefreshView(PublicAuthView):
    throttle_classes = [RefreshIPThrottle]

    def post(self, request):
        data = s.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            session = services.session_refresh(
                refresh_token=data.validated_data["refresh"], ip=client_ip(request), user_agent=_user_agent(request)
            )
        except services.TokenReused as exc:
            raise AuthenticationFailed(
                _("This refresh token was already used; the session has been signed out."), code="token_reused"
            ) from exc
        except TokenInvalid as exc:
            raise AuthenticationFailed(_("Token is invalid or expired."), code="token_not_valid") from exc
        return Response(session.tokens.as_response())


@schema.PASSWORD_RULES
class PasswordRulesView(APIView):
    permission_classes = [AllowAny]

    def get_authenticators(self):
        # A signed-in user's token chooses the language (their saved one); a stale one is ignored.
        # Public in the OpenAPI document (as the share page's reads): no credentials needed.
        return [] if getattr(self, "swagger_fake_view", False) else [OptionalDeviceJWTAuthentication()]

    def get(self, request):
        rules = [{"code": rule.code, "text": rule.text} for rule in password_rules()]
        return Response(s.PasswordRulesSerializer({"rules": rules}).data)


@schema.LOGOUT
class LogoutView(APIView):
    def post(self, request):
        data = s.LogoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["all"]:
            services.devices_revoke_all(user=request.user)
        else:
            services.device_revoke(device=current_device(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@schema.PASSWORD_CHANGE
class PasswordChangeView(APIView):
    def post(self, request):
        data = s.PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Under the sign-in limits: a wrong current password is a failed sign-in of this account
        # from this address (a stolen session cannot guess on), and a locked-out one answers 429.
        old_password = data.validated_data["old_password"]
        if not lockout.check_password(request._request, user=request.user, password=old_password):
            raise ValidationError(
                {"old_password": [_("The current password is not correct.")]}, code="password_incorrect"
            )
        services.password_change(user=request.user, current_device=current_device(request), **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- profile and settings -------------------------------------------------------------------


@schema.PROFILE
class ProfileView(APIView):
    def get(self, request):
        return Response(s.UserSerializer(request.user).data)

    def patch(self, request):
        data = s.UserUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, **data.validated_data)
        return Response(s.UserSerializer(user).data)

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
    refusals = schema.SETTINGS_REFUSALS

    def get_target_user(self):
        return self.request.user

    def get_serializer_class(self):
        return (self.by_staff and self.staff_serializer_class) or self.serializer_class

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


@schema.USER_SETTINGS
class UserSettingsView(SettingsPartView):
    serializer_class = s.UserSettingsSerializer


@schema.THEME
class ThemeView(SettingsPartView):
    serializer_class = s.ThemeSerializer


@schema.NOTIFICATION
class NotificationView(SettingsPartView):
    serializer_class = s.NotificationSerializer


class StaffTargetMixin:
    permission_classes = [IsAdminUser]
    by_staff = True

    def get_target_user(self):
        return get_object_or_404(selectors.user_list(), pk=self.kwargs["user_id"])


@schema.STAFF_USER_SETTINGS
class StaffUserSettingsView(StaffTargetMixin, SettingsPartView):
    serializer_class = s.UserSettingsSerializer
    staff_serializer_class = s.StaffUserSettingsSerializer
    http_method_names = ["get", "put", "patch", "options"]
