"""WebSocket routes (Channels). Each app adds its consumers here."""

websocket_urlpatterns: list = []
