"""Every private piece of django-allauth that social login relies on, and nothing else.

allauth's documented extension points (the account, social-account and headless adapters, the
token strategy classes, ``allauth.core.context``, ``ImmediateHttpResponse``, the models) are
imported where they are used. What is below is not documented API: functions of
``allauth.*.internal`` modules and undocumented classes and constants. A new allauth release may
move or change any of it without notice, so:

* django-allauth is pinned in ``requirements.txt``;
* ``tests/accounts/test_allauth_internals.py`` checks that the installed version is the pinned
  one, that every name here still exists with the shape we use, and that no other module of the
  project imports ``allauth.*.internal``. An upgrade fails there first, in one place.

Behaviour of allauth (not names) we also rely on, each covered by a test of the same file:

* ``statekit.stash_state`` stores the very ``state`` dict it passes to
  ``SocialAccountAdapter.generate_state_param``, so a change made to it there is what gets
  stashed (``adapters.SocialAccountAdapter.generate_state_param`` swaps the client's
  ``callback_url`` for our own return path);
* every app-client request asks the token strategy for its session token
  (``get_session_token``) before the view runs (``authkit.authentication_context``), so
  ``token_strategy.DeviceTokenStrategy`` can refuse a malformed device id before any login or
  signup happens.
"""

# Which login method and provider allauth recorded in this session; a headless login's Device
# gets that provider as its login_type (device_sessions.login_type_from_session).
from allauth.account.internal.flows.login import get_authentication_records

# The body of GET /_allauth/app/v1/config, rebuilt by config_view.AppConfigView so app clients
# see every configured provider (allauth lists only token-capable ones to them); and allauth's
# own 403 for a closed sign-up, answered by signup_view.SignupView before it reads its input.
from allauth.headless.base.response import ConfigResponse, ForbiddenResponse

# The view behind /_allauth/app/v1/config; subclassed so its client marking and as_api_view
# stay allauth's.
from allauth.headless.base.views import ConfigView

# The headless client kinds (Client.APP marks app requests) and flow names listed by the config
# endpoint ("provider_redirect", "provider_token").
from allauth.headless.constants import Client, Flow

# Forgets the request's cached user after request.session is swapped, so the user is read from
# the new session (provider_callback runs a callback on the app session that started it).
from allauth.headless.internal.authkit import purge_request_user_cache

# allauth's JSON envelope {status, data, meta}, used for the config answer.
from allauth.headless.internal.restkit.response import APIResponse

# A session of the configured engine, new or by key: the app session a provider callback must
# run on, and the one-request session built from a Bearer token (token_strategy).
from allauth.headless.internal.sessionkit import session_store

# How long allauth keeps an OAuth state (seconds); a pending flow is remembered as long.
from allauth.socialaccount.internal.statekit import STATE_TTL

__all__ = [
    "STATE_TTL",
    "APIResponse",
    "Client",
    "ConfigResponse",
    "ConfigView",
    "Flow",
    "ForbiddenResponse",
    "get_authentication_records",
    "purge_request_user_cache",
    "session_store",
]
