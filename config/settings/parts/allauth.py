"""django-allauth (headless, app client): password reset links and social login."""

from .env import env, env_secret

# --- django-allauth (headless, app client; social login issues Device sessions) ------------
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
# A reset asked for an address with no account sends nothing (the answer is the same either way):
# the form must not become a way to mail strangers.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_ADAPTER = "accounts.social.adapters.AccountAdapter"
HEADLESS_ONLY = True
HEADLESS_CLIENTS = ("app",)
# One token system: allauth's app endpoints hand out the same simplejwt + Device pair as
# POST /api/v1/auth/login (see accounts/social/token_strategy.py).
HEADLESS_TOKEN_STRATEGY = "accounts.social.token_strategy.DeviceTokenStrategy"  # noqa: S105 (a class path)
HEADLESS_FRONTEND_URLS = {
    # Where a provider callback lands when its state is missing or unknown (no client to return to).
    "socialaccount_login_error": env("SOCIAL_LOGIN_ERROR_URL", default="/"),
    # The link in a password-reset email: the web client's reset page (another front-end points
    # it at its own page; {key} is the reset key it posts back with the new password). The key
    # rides in the fragment, which browsers never send: it stays out of request lines, so out of
    # access logs and proxies, and the page takes it out of the address bar at once.
    "account_reset_password_from_key": env("PASSWORD_RESET_URL", default="/reset-password#key={key}"),
}
# A reset key works once, for this long (Django's PASSWORD_RESET_TIMEOUT, in seconds; ASVS asks
# for short-lived reset tokens). Signing in or changing the password also ends it.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_MINUTES", default=60) * 60
# callback_url values outside ALLOWED_HOSTS the redirect flow may return to (e.g. an SPA origin
# or an app scheme such as "myapp://auth"): same scheme and host, path at or below the entry's
# (accounts/social/callback_urls.py).
SOCIAL_ALLOWED_CALLBACK_URLS = env.list("SOCIAL_ALLOWED_CALLBACK_URLS", default=[])
SOCIAL_PROVIDER_IDS = ("google", "github", "kakao", "naver")
# Added to INSTALLED_APPS by base.py.
SOCIAL_PROVIDER_APPS = [f"allauth.socialaccount.providers.{provider_id}" for provider_id in SOCIAL_PROVIDER_IDS]
SOCIALACCOUNT_ADAPTER = "accounts.social.adapters.SocialAccountAdapter"
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_QUERY_EMAIL = True
SOCIALACCOUNT_STORE_TOKENS = False
# A provider's email never signs into, nor attaches to, an existing local account.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
_SOCIAL_PROVIDER_EXTRA = {
    "google": {"SCOPE": ["openid", "profile", "email"], "AUTH_PARAMS": {"access_type": "online"}},
    "github": {"SCOPE": ["read:user", "user:email"]},
    "kakao": {},
    "naver": {},
}
# A provider is offered only when both its client id and secret are in the environment.
SOCIALACCOUNT_PROVIDERS = {}
for _provider_id in SOCIAL_PROVIDER_IDS:
    _client_id = env_secret(f"SOCIAL_{_provider_id.upper()}_CLIENT_ID")
    _secret = env_secret(f"SOCIAL_{_provider_id.upper()}_SECRET")
    if _client_id and _secret:
        SOCIALACCOUNT_PROVIDERS[_provider_id] = {
            **_SOCIAL_PROVIDER_EXTRA[_provider_id],
            "APPS": [{"client_id": _client_id, "secret": _secret, "key": ""}],
        }
