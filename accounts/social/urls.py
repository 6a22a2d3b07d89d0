"""Social-login URLs, mounted at the root before allauth's own: the provider callbacks
(allauth's views, wrapped so a redirect flow started by the app client completes on that
client's session), the app client's config, which lists every configured provider, and
allauth's password sign-up, closed (signup_view.py).

Only callbacks: flows start at POST /_allauth/app/v1/auth/provider/redirect, never at a
cookie-session login page."""

from django.conf import settings
from django.urls import include, path
from django.utils.module_loading import import_string

from .allauth_internals import Client
from .config_view import AppConfigView
from .provider_callback import social_callback
from .signup_view import SignupView


def _provider_urls(provider_id: str):
    views = f"allauth.socialaccount.providers.{provider_id}.views"
    return [
        path(
            "login/callback/",
            social_callback(import_string(f"{views}.oauth2_callback"), provider_id),
            name=f"{provider_id}_callback",
        ),
    ]


urlpatterns = [
    path("_allauth/app/v1/config", AppConfigView.as_api_view(client=Client.APP), name="social-app-config"),
    # Closed before it reads its input: sign-up is POST /api/v1/auth/register (signup_view.py).
    path("_allauth/app/v1/auth/signup", SignupView.as_api_view(client=Client.APP), name="allauth-signup-closed"),
    *(path(f"accounts/{pid}/", include(_provider_urls(pid))) for pid in settings.SOCIAL_PROVIDER_IDS),
]
