"""Social login (django-allauth headless, app client) issuing the same Device sessions as password login.

How the pieces fit:

* Token flow (``POST /_allauth/app/v1/auth/provider/token``): allauth logs the user in during
  an app request, then asks ``token_strategy.DeviceTokenStrategy`` for tokens; it calls
  ``accounts.services.session_start`` (``device_sessions.issue_session``) with ``login_type`` =
  the provider recorded by allauth for this login, so the answer carries the simplejwt pair and
  the Device.
* Redirect flow (``POST /_allauth/app/v1/auth/provider/redirect``): allauth keeps the OAuth
  ``state`` in the app request's own session, which the browser coming back from the provider
  does not carry. ``adapters.SocialAccountAdapter.generate_state_param`` therefore records a
  ``pending_flows.PendingFlow`` per state (which session holds it, the device id, the client's
  ``callback_url``); ``provider_callback.social_callback`` (wrapping each provider's callback
  view) runs the callback on that session and sends the browser on to the ``callback_url``, with
  a one-time ``code`` (``handoff``) on success. ``POST /api/v1/auth/social/exchange {code}``
  (``exchange``) turns the code into the same ``{access, refresh, token_type, expires_in,
  device, user}`` as ``POST /api/v1/auth/login``.
* ``callback_urls``: which ``callback_url`` values are allowed (our own hosts, or an entry of
  ``SOCIAL_ALLOWED_CALLBACK_URLS`` such as ``myapp://auth``) and the redirect that may use an
  app scheme.
* Allauth sessions never stay signed in: after tokens are issued (or a callback finished) the
  session is flushed, and authenticated allauth calls (linking, unlinking) use the Bearer
  access token, so revoking a device cuts off its allauth access too.
* ``allauth_internals`` is the only module that imports allauth's private API.
"""
