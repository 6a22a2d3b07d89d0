from django.urls import path

from core.viewsets import INT_PATTERN, api_router

from . import views
from .stream import StreamView
from .subscription import StaffSubscriptionView, SubscriptionView

router = api_router()
router.register("models", views.ModelViewSet, basename="model")
router.register("prompts", views.PromptViewSet, basename="prompt")
router.register("conversations", views.ConversationViewSet, basename="conversation")
router.register(
    f"users/(?P<user_id>{INT_PATTERN})/conversations",
    views.StaffConversationViewSet,
    basename="staff-user-conversation",
)

urlpatterns = [
    *router.urls,
    # Streaming stays an async view (no thread per waiting client), beside the viewset's routes.
    path("conversations/<uuid:pk>/stream", StreamView.as_view(), name="conversation-stream"),
    path("user/settings/subscription", SubscriptionView.as_view(), name="user-settings-subscription"),
    path(
        "users/<int:user_id>/settings/subscription",
        StaffSubscriptionView.as_view(),
        name="staff-user-settings-subscription",
    ),
]
