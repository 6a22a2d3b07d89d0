"""Everything under /api/v1/: one include per app, so each feature is found by its app name."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("conversations.api.urls")),
    path("", include("sharing.api.urls")),
    path("", include("collector.api.urls")),
    path("", include("files.api.urls")),
    path("", include("todos.api.urls")),
    path("", include("portability.api.urls")),
    path("", include("tools.api.urls")),
]
