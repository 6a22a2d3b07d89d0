"""The headless token strategy (``HEADLESS_TOKEN_STRATEGY``): one token system for allauth and the API.

allauth's session tokens (``X-Session-Token``) only carry a login in progress; once the user is
signed in, allauth's app endpoints hand out the same simplejwt + Device pair as
``POST /api/v1/auth/login``, and accept its Bearer access token.
"""

from __future__ import annotations

from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from .. import services
from ..authentication import DeviceJWTAuthentication
from ..tokens import TokenInvalid
from .allauth_internals import session_store
from .device_sessions import (
    device_id_from_request,
    device_name_from_request,
    issue_session,
    login_type_from_session,
    session_payload,
)

# Marks a session built from a Bearer token for one request; it is never a credential itself.
BEARER_SESSION_MARK = "accounts_bearer_device"


def refuse_malformed_device_id(request: HttpRequest) -> None:
    """Answer 400 (allauth's error shape, naming ``device_id``) for a malformed device id."""
    try:
        device_id_from_request(request)
    except ValidationError as exc:
        error = exc.error_dict["device_id"][0]
        body = {"status": 400, "errors": [{"message": error.messages[0], "code": error.code, "param": "device_id"}]}
        raise ImmediateHttpResponse(JsonResponse(body, status=400)) from None


class DeviceTokenStrategy(SessionTokenStrategy):
    """allauth's session tokens for the login steps; simplejwt + Device pairs once signed in."""

    def get_session_token(self, request: HttpRequest) -> str | None:
        # allauth asks for the session token first thing on every app request, before the view:
        # a malformed device id is refused here, before any login or signup happens.
        refuse_malformed_device_id(request)
        token = request.headers.get("X-Session-Token")
        if token:
            return token
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return "bearer:" + auth.removeprefix("Bearer ").strip()
        # RFC 6750's form-encoded body parameter: a browser form POST (the redirect flow with
        # process=connect) cannot set headers.
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            body_token = request.POST.get("access_token")
            if body_token:
                return "bearer:" + body_token.strip()
        return None

    def lookup_session(self, session_token: str) -> SessionBase | None:
        if session_token.startswith("bearer:"):
            return self._session_for_bearer(session_token.removeprefix("bearer:"))
        session = super().lookup_session(session_token)
        if session is not None and session.get(BEARER_SESSION_MARK):
            return None  # only ever valid for the request that presented the Bearer token
        return session

    def _session_for_bearer(self, raw: str) -> SessionBase | None:
        auth = DeviceJWTAuthentication()
        try:
            user = auth.get_user(auth.get_validated_token(raw.encode()))
        except (InvalidToken, TokenError, AuthenticationFailed):
            return None
        session = session_store()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[BEARER_SESSION_MARK] = str(user.current_device.pk)
        session.modified = False  # nothing to persist unless a flow (e.g. connect) stashes state
        return session

    def create_access_token_payload(self, request: HttpRequest) -> dict[str, Any] | None:
        user = request.user
        if not user.is_authenticated:
            return None
        issued = issue_session(
            request,
            user=user,
            login_type=login_type_from_session(request),
            device_id=device_id_from_request(request),  # well-formed: see get_session_token
            device_name=device_name_from_request(request),
        )
        # The Device session is the credential from here on; the allauth session is not.
        request.session.flush()
        payload = session_payload(issued)
        # allauth's own clients read these two names.
        payload["access_token"] = payload["access"]
        payload["refresh_token"] = payload["refresh"]
        return payload

    def create_access_token(self, request: HttpRequest) -> str | None:
        payload = self.create_access_token_payload(request)
        return payload["access"] if payload else None

    def refresh_token(self, refresh_token: str) -> tuple[str, str] | None:
        try:
            issued = services.session_refresh(refresh_token=refresh_token)
        except (TokenInvalid, services.TokenReused):
            return None
        return issued.tokens.access, issued.tokens.refresh
