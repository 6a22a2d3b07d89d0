from allauth.headless.constants import Client
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.lockout import ChangePasswordView
from core import csp
from core.metrics import metrics_view

from .client import client_page
from .health import healthz

# Redoc's search runs in a worker it makes from a blob: URL (config/csp.py).
redoc = csp.allowing("worker-src", "blob:")(SpectacularRedocView.as_view(url_name="schema"))

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),  # Prometheus text: loopback or METRICS_TOKEN
    path("api/v1/", include("config.api_urls")),
    path("v1/", include("openai_api.urls")),  # the OpenAI-compatible API (personal API keys)
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", redoc, name="redoc"),
    path("", include("accounts.social.urls")),  # social login: provider callbacks, app config
    # allauth's password change, with its current-password check under the sign-in limits.
    path("_allauth/app/v1/account/password/change", ChangePasswordView.as_api_view(client=Client.APP)),
    path("_allauth/", include("allauth.headless.urls")),
    path("admin/", include("console.urls")),  # the operator console: the admin and its usage page
    path("", include("sharing.urls")),
    path("", client_page, name="client"),
    path("c/<uuid:conversation_id>", client_page, name="client-conversation"),
    # The reset page; its key comes in the fragment (never sent here). Links of the old form,
    # with the key in the path, still open it (the page reads either; logs redact the path).
    path("reset-password", client_page, name="client-reset-password"),
    path("reset-password/<str:key>", client_page, name="client-reset-password-key"),
]

handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
