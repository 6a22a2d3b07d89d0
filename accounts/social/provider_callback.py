"""The provider callbacks (``/accounts/<provider>/login/callback/``) of redirect flows started by the app.

Each provider's allauth callback view is wrapped (``social_callback``) so that it runs on the app
session that started the flow (``pending_flows``), and so that the browser ends up at the
client's ``callback_url``: with ``?code=`` (``handoff``) after a login, or
``?error=<code>&error_process=<process>``.
"""

from __future__ import annotations

import logging
from functools import wraps
from urllib.parse import parse_qsl, urlsplit

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.headless.adapter import get_adapter as get_headless_adapter
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect

from . import pending_flows
from .allauth_internals import purge_request_user_cache, session_store
from .callback_urls import CallbackRedirect, with_query
from .handoff import handoff_issue

logger = logging.getLogger(__name__)


def social_callback(view, provider_id: str):
    """Run a provider's callback on the app session that started the flow (see module doc)."""

    @wraps(view)
    def callback(request: HttpRequest, *args, **kwargs):
        if provider_id not in settings.SOCIALACCOUNT_PROVIDERS:
            # Not configured (no client id and secret): allauth would fail looking up its app.
            raise Http404("This sign-in provider is not configured.")
        flow = pending_flows.take(request.GET.get("state", ""))
        if flow is None:
            return view(request, *args, **kwargs)  # allauth reports the unknown state
        if not get_account_adapter().is_safe_url(flow.callback_url):
            # Allowed when the flow started, no longer (the operator changed the list): refuse
            # before the provider is asked anything, so no account is created or linked.
            session_store(flow.session_key).flush()
            return _login_error(flow)
        browser_session = request.session
        request.session = session_store(flow.session_key)
        purge_request_user_cache(request)
        try:
            try:
                response = view(request, *args, **kwargs)
            except ImmediateHttpResponse as exc:  # allauth's way of ending a flow early (errors)
                response = exc.response
            response = _to_client(request, response, flow=flow, provider_id=provider_id)
        finally:
            # Whatever happened, this session has served its one flow (allauth may have swapped
            # in a fresh instance of it, so flush the current one).
            request.session.flush()
            request.session = browser_session
            purge_request_user_cache(request)
        return response

    return callback


def _login_error(flow: pending_flows.PendingFlow) -> HttpResponseRedirect:
    url = get_headless_adapter().get_frontend_url("socialaccount_login_error") or "/"
    return HttpResponseRedirect(with_query(url, {"error": "unknown", "error_process": flow.process}))


def _to_client(
    request: HttpRequest, response: HttpResponse, *, flow: pending_flows.PendingFlow, provider_id: str
) -> HttpResponse:
    """allauth's end of the flow (a redirect to our return path) as a redirect to the client."""
    if not isinstance(response, HttpResponseRedirect):
        return response
    location = urlsplit(response["Location"])
    if location.scheme or location.netloc or location.path != pending_flows.ALLAUTH_RETURN_PATH:
        return response  # not the end of this flow (e.g. allauth's own error page)
    params = dict(parse_qsl(location.query))
    if flow.process == "login" and "error" not in params:
        params = _handoff(request, flow=flow, provider_id=provider_id)
    return CallbackRedirect(with_query(flow.callback_url, params))


def _handoff(request: HttpRequest, *, flow: pending_flows.PendingFlow, provider_id: str) -> dict[str, str]:
    user = request.user
    if not user.is_authenticated:
        # e.g. a signup that needs input we never ask for on this flow
        return {"error": "signup_required", "error_process": "login"}
    code = handoff_issue(user_id=user.pk, login_type=provider_id, device_id=flow.device_id)
    logger.info("Social login via %s for user %s; handoff code issued", provider_id, user.pk)
    return {"code": code}
