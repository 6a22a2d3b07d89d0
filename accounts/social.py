"""Social login (django-allauth headless, app client) issuing the same Device sessions as password login.

How the pieces fit:

* Token flow (``POST /_allauth/app/v1/auth/provider/token``): allauth logs the user in during
  an app request, then asks ``DeviceTokenStrategy.create_access_token_payload`` for tokens; it
  calls ``accounts.services.session_start`` with ``login_type`` = the provider recorded by
  allauth for this login, so the answer carries the simplejwt pair and the Device.
* Redirect flow (``POST /_allauth/app/v1/auth/provider/redirect``): allauth keeps the OAuth
  ``state`` in the app request's own session, which the browser coming back from the provider
  does not carry. ``SocialAccountAdapter.generate_state_param`` therefore remembers, per state,
  which session holds it; ``social_callback`` (wrapping each provider's callback view) runs the
  callback on that session, and on success appends a one-time ``code`` to the client's
  ``callback_url``. ``POST /api/v1/auth/social/exchange {code}`` turns the code into the same
  ``{access, refresh, token_type, expires_in, device, user}`` as ``POST /api/v1/auth/login``.
* Allauth sessions never stay signed in: after tokens are issued (or a callback finished) the
  session is flushed, and authenticated allauth calls (linking, unlinking) use the Bearer
  access token, so revoking a device cuts off its allauth access too.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from functools import wraps
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from allauth.headless.base.response import ConfigResponse
from allauth.headless.base.views import ConfigView
from allauth.headless.constants import Client, Flow
from allauth.headless.internal.restkit.response import APIResponse
from allauth.headless.internal.sessionkit import session_store
from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.adapter import get_adapter as get_socialaccount_adapter
from allauth.socialaccount.internal.statekit import STATE_TTL
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponseRedirect
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from . import services
from .api.serializers import DeviceBriefSerializer, LoginResponseSerializer, UserSerializer
from .api.throttles import LoginIPThrottle
from .api.views import _ERROR, PublicAuthView, client_ip
from .authentication import DeviceJWTAuthentication
from .models import LoginType, User
from .tokens import TokenInvalid

logger = logging.getLogger(__name__)

DEVICE_ID_HEADER = "X-Device-ID"
DEVICE_NAME_HEADER = "X-Device-Name"
# Marks a session built from a Bearer token for one request; it is never a credential itself.
BEARER_SESSION_MARK = "accounts_bearer_device"
_STATE_KEY = "social:state:{}"
_HANDOFF_KEY = "social:handoff:{}"
HANDOFF_TTL_SECONDS = 120
_DEVICE_ID_RE = re.compile(r"^[\w.:-]{1,128}$")


# --- small helpers ---------------------------------------------------------------------------


def clean_device_id(value: Any) -> str | None:
    """A client-chosen device id, or None when absent; malformed ids are a 400 naming the field."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _DEVICE_ID_RE.match(value):
        raise ValidationError(
            {"device_id": ["Use 1-128 letters, digits, '.', '_', ':' or '-'."]}, code="device_id_invalid"
        )
    return value


def device_id_from_request(request: HttpRequest) -> str | None:
    return clean_device_id(request.headers.get(DEVICE_ID_HEADER) or request.POST.get("device_id"))


def login_type_from_session(request: HttpRequest) -> str:
    """The provider of the login allauth just recorded in this session ("local" for a password)."""
    for record in reversed(get_authentication_records(request, request.user)):
        if record.get("method") == "socialaccount":
            provider = record.get("provider")
            return provider if provider in LoginType.values else LoginType.LOCAL
        return LoginType.LOCAL
    return LoginType.LOCAL


def issue_session(
    request: HttpRequest, *, user: User, login_type: str, device_id: str | None, device_name: str = ""
) -> services.IssuedSession:
    return services.session_start(
        user=user,
        login_type=login_type,
        device_id=device_id,
        device_name=device_name,
        user_agent=request.headers.get("User-Agent", "")[:512],
        ip=client_ip(request),
    )


def session_payload(issued: services.IssuedSession) -> dict:
    return {**issued.tokens.as_response(), "device": DeviceBriefSerializer(issued.device).data}


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _is_app_request(request: HttpRequest | None) -> bool:
    headless = getattr(getattr(request, "allauth", None), "headless", None)
    return getattr(headless, "client", None) == Client.APP


# --- adapters --------------------------------------------------------------------------------


class AccountAdapter(DefaultAccountAdapter):
    def is_safe_url(self, url: str | None) -> bool:
        # Besides our own hosts, the redirect flow may return to the operator's listed clients.
        if url and any(url.startswith(prefix) for prefix in settings.SOCIAL_ALLOWED_CALLBACK_URLS):
            return True
        return super().is_safe_url(url)

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            services.user_settings_get(user=user)  # signups through allauth get the default plan too
        return user


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    # Naver marks every address as verified, whoever owns it; we trust nobody's word on that.
    UNVERIFIED_EMAIL_PROVIDERS = frozenset({"naver"})

    def pre_social_login(self, request, sociallogin) -> None:
        provider_id = sociallogin.account.provider
        if provider_id in self.UNVERIFIED_EMAIL_PROVIDERS:
            for address in sociallogin.email_addresses:
                address.verified = False
        if sociallogin.is_existing or sociallogin.state.get("process") == "connect":
            return
        email = User.objects.normalize_email(sociallogin.user.email if sociallogin.user else "")
        if not email:
            raise ValidationError(
                f"{self._provider_name(provider_id)} did not share an email address; allow it and try again.",
                code="email_required",
            )
        if User.objects.filter(email__iexact=email).exists():
            # Never sign into (or attach to) an existing account because a provider says the
            # email matches: the owner signs in as usual and links the provider themselves.
            raise ValidationError(
                "An account with this email already exists. Sign in to it, then link "
                f"{self._provider_name(provider_id)} from your account.",
                code="email_taken",
            )

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        extra = sociallogin.account.extra_data or {}
        name = (
            data.get("name")
            or " ".join(filter(None, [data.get("first_name"), data.get("last_name")]))
            or extra.get("name")
            or extra.get("nickname")
            or data.get("username")
            or ""
        )
        user.display_name = str(name).strip()[:150]
        user.email = User.objects.normalize_email(user.email)
        return user

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form=form)
        services.user_settings_get(user=user)  # the default plan, as for password signups
        return user

    def generate_state_param(self, state: dict) -> str:
        state_id = super().generate_state_param(state)
        request = context.request
        if _is_app_request(request):
            # The callback arrives from a browser that does not carry this app session; remember
            # which session holds the state so the callback can run on it.
            if not request.session.session_key:
                request.session.save()
            cache.set(
                _STATE_KEY.format(state_id),
                {
                    "session_key": request.session.session_key,
                    "process": state.get("process"),
                    "device_id": device_id_from_request(request),
                },
                STATE_TTL,
            )
        return state_id

    @staticmethod
    def _provider_name(provider_id: str) -> str:
        return {"github": "GitHub"}.get(provider_id, provider_id.capitalize())


# --- the headless token strategy -------------------------------------------------------------


class DeviceTokenStrategy(SessionTokenStrategy):
    """allauth's session tokens for the login steps; simplejwt + Device pairs once signed in."""

    def get_session_token(self, request: HttpRequest) -> str | None:
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
        try:
            device_id = device_id_from_request(request)
        except ValidationError:
            device_id = None  # the login itself succeeded; a generated id is returned instead
        issued = issue_session(
            request,
            user=user,
            login_type=login_type_from_session(request),
            device_id=device_id,
            device_name=request.headers.get(DEVICE_NAME_HEADER, ""),
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


# --- the config endpoint ---------------------------------------------------------------------


class AppConfigView(ConfigView):
    """``GET /_allauth/app/v1/config``, listing every configured provider with the flows it has.

    allauth lists only token-capable providers to app clients, because its redirect flow is
    browser-only; ``social_callback`` below makes the redirect flow work for our app client.
    """

    def get(self, request, *args, **kwargs):
        response = ConfigResponse(request)
        body = json.loads(response.content)
        providers = sorted(get_socialaccount_adapter().list_providers(request), key=lambda p: p.name)
        body["data"]["socialaccount"] = {"providers": [_provider_entry(p) for p in providers]}
        return APIResponse(request, data=body["data"], meta=body.get("meta"), status=response.status_code)


def _provider_entry(provider) -> dict:
    flows = [Flow.PROVIDER_REDIRECT] if provider.supports_redirect else []
    if provider.supports_token_authentication:
        flows.append(Flow.PROVIDER_TOKEN)
    return {"id": provider.sub_id, "name": provider.name, "flows": flows, "client_id": provider.app.client_id}


# --- redirect flow: the provider callback and the code exchange ------------------------------


def _purge_user_cache(request: HttpRequest) -> None:
    from allauth.headless.internal.authkit import purge_request_user_cache

    purge_request_user_cache(request)


def social_callback(view, provider_id: str):
    """Run a provider's callback on the app session that started the flow (see module doc)."""

    @wraps(view)
    def callback(request: HttpRequest, *args, **kwargs):
        if provider_id not in settings.SOCIALACCOUNT_PROVIDERS:
            # Not configured (no client id and secret): allauth would fail looking up its app.
            raise Http404("This sign-in provider is not configured.")
        state_id = request.GET.get("state", "")
        entry = cache.get(_STATE_KEY.format(state_id)) if 0 < len(state_id) <= 256 else None
        if entry is None:
            return view(request, *args, **kwargs)  # allauth reports the unknown state
        cache.delete(_STATE_KEY.format(state_id))
        browser_session = request.session
        app_session = session_store(entry["session_key"])
        request.session = app_session
        _purge_user_cache(request)
        try:
            response = view(request, *args, **kwargs)
            if entry["process"] == "login" and isinstance(response, HttpResponseRedirect):
                response = _handoff(request, response, provider_id=provider_id, entry=entry)
        finally:
            # Whatever happened, this session has served its one flow (allauth may have swapped
            # in a fresh instance of it, so flush the current one).
            request.session.flush()
            request.session = browser_session
            _purge_user_cache(request)
        return response

    return callback


def _handoff(request: HttpRequest, response: HttpResponseRedirect, *, provider_id: str, entry: dict):
    location = response["Location"]
    if "error=" in urlsplit(location).query:
        return response
    user = request.user
    if not user.is_authenticated:
        # e.g. a signup that needs input we never ask for on this flow
        return HttpResponseRedirect(_with_query(location, {"error": "signup_required", "error_process": "login"}))
    code = secrets.token_urlsafe(32)
    cache.set(
        _HANDOFF_KEY.format(code),
        {"user_id": user.pk, "login_type": provider_id, "device_id": entry["device_id"]},
        HANDOFF_TTL_SECONDS,
    )
    logger.info("Social login via %s for user %s; handoff code issued", provider_id, user.pk)
    return HttpResponseRedirect(_with_query(location, {"code": code}))


class HandoffForAnotherDevice(Exception):
    pass


def handoff_redeem(*, code: str, device_id: str | None = None) -> dict | None:
    """The handoff behind a one-time code, or None. Of two concurrent redemptions one wins.

    A code bound to a device and presented with another device id raises
    ``HandoffForAnotherDevice`` *without* being used up, so a mistaken request cannot burn it.
    """
    key = _HANDOFF_KEY.format(code)
    entry = cache.get(key)
    if entry is None:
        return None
    if entry["device_id"] and device_id and device_id != entry["device_id"]:
        raise HandoffForAnotherDevice
    if not cache.delete(key):
        return None
    return entry


class SocialExchangeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=128)
    device_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    device_name = serializers.CharField(max_length=128, required=False, allow_blank=True)

    def validate_device_id(self, value):
        try:
            return clean_device_id(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["device_id"]) from exc


class SocialExchangeView(PublicAuthView):
    """Trade the one-time ``code`` from a finished provider redirect for a device session."""

    throttle_classes = [LoginIPThrottle]

    @extend_schema(
        tags=["auth"],
        summary="Finish a social login (redirect flow)",
        request=SocialExchangeSerializer,
        responses={
            200: LoginResponseSerializer,
            400: OpenApiResponse(description="A field is missing or malformed; the body names it."),
            401: OpenApiResponse(_ERROR, "The code is unknown, expired or already used"),
        },
    )
    def post(self, request):
        data = SocialExchangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        device_id = data.validated_data.get("device_id") or None
        try:
            entry = handoff_redeem(code=data.validated_data["code"], device_id=device_id)
        except HandoffForAnotherDevice:
            raise AuthenticationFailed("This sign-in code belongs to another device.", code="code_invalid") from None
        if entry is None:
            raise AuthenticationFailed("This sign-in code is invalid, expired or already used.", code="code_invalid")
        user = User.objects.filter(pk=entry["user_id"], is_active=True).first()
        if user is None:
            raise AuthenticationFailed("This account is not active.", code="user_inactive")
        issued = issue_session(
            request,
            user=user,
            login_type=entry["login_type"],
            device_id=entry["device_id"] or device_id,
            device_name=data.validated_data.get("device_name", ""),
        )
        return Response({**session_payload(issued), "user": UserSerializer(user).data})
