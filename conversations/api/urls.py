from django.urls import path

from . import views
from .stream import StreamView

urlpatterns = [
    path("models", views.ModelListView.as_view(), name="models"),
    path("prompts", views.PromptListView.as_view(), name="prompts"),
    path("conversations", views.ConversationListView.as_view(), name="conversations"),
    path("conversations/<uuid:pk>", views.ConversationDetailView.as_view(), name="conversation-detail"),
    path("conversations/<uuid:pk>/messages", views.MessageListView.as_view(), name="conversation-messages"),
    path("conversations/<uuid:pk>/stream", StreamView.as_view(), name="conversation-stream"),
    path("conversations/<uuid:pk>/stop", views.StopView.as_view(), name="conversation-stop"),
    path("conversations/<uuid:pk>/feedback", views.FeedbackView.as_view(), name="conversation-feedback"),
    path(
        "users/<int:user_id>/conversations",
        views.StaffConversationListView.as_view(),
        name="staff-user-conversations",
    ),
    path(
        "users/<int:user_id>/conversations/<uuid:pk>",
        views.StaffConversationDetailView.as_view(),
        name="staff-user-conversation-detail",
    ),
]
