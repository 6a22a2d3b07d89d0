"""The provider callbacks (``/accounts/<provider>/login/callback/``) of redirect flows started by the app.

Each provider's allauth callback view is wrapped (``social_callback``) so that it runs on the app
session that started the flow (``pending_flows``); after a login the browser goes on to the
client's ``callback_url`` with a one-time ``?code=`` (``handoff``).
"""

from __future__ import annotations

import logging
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponseRedirect

from . import pending_flows
from .allauth_internals import purge_request_user_cache, session_store
from .callback_urls import with_query
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
        browser_session = request.session
        request.session = session_store(flow.session_key)
        purge_request_user_cache(request)
        try:
            response = view(request, *args, **kwargs)
            if flow.process == "login" and isinstance(response, HttpResponseRedirect):
                response = _handoff(request, response, flow=flow, provider_id=provider_id)
        finally:
            # Whatever happened, this session has served its one flow (allauth may have swapped
            # in a fresh instance of it, so flush the current one).
            request.session.flush()
            request.session = browser_session
            purge_request_user_cache(request)
        return response

    return callback


def _handoff(
    request: HttpRequest, response: HttpResponseRedirect, *, flow: pending_flows.PendingFlow, provider_id: str
):
    location = response["Location"]
    if "error=" in urlsplit(location).query:
        return response
    user = request.user
    if not user.is_authenticated:
        # e.g. a signup that needs input we never ask for on this flow
        return HttpResponseRedirect(with_query(location, {"error": "signup_required", "error_process": "login"}))
    code = handoff_issue(user_id=user.pk, login_type=provider_id, device_id=flow.device_id)
    logger.info("Social login via %s for user %s; handoff code issued", provider_id, user.pk)
    return HttpResponseRedirect(with_query(location, {"code": code}))
