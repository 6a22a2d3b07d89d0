from django.urls import path

from core.viewsets import api_router

from . import views

router = api_router()
router.register("imports", views.ImportViewSet, basename="import")
router.register("user/exports", views.ExportViewSet, basename="user-export")

urlpatterns = [
    *router.urls,
    path("user/export", views.UserExportView.as_view(), name="user-export-start"),
    path("conversations/<uuid:pk>/export", views.ConversationExportView.as_view(), name="conversation-export"),
]
