"""WebSocket routes (Channels). Each app adds its consumers here."""

from django.urls import path

from conversations.consumers import ConversationConsumer

websocket_urlpatterns: list = [
    path("ws/conversations/<uuid:pk>/", ConversationConsumer.as_asgi()),
]
