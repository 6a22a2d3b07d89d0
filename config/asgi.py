"""ASGI entry point: HTTP through Django, WebSocket through Channels (token sent in-band)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

from django.conf import settings  # noqa: E402

from core.asgi import asgi_application  # noqa: E402

django_asgi_app = asgi_application()  # populate the app registry before importing consumers

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.websocket_urls import websocket_urlpatterns  # noqa: E402

http_app = django_asgi_app
if settings.SERVE_STATIC:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    http_app = ASGIStaticFilesHandler(django_asgi_app)

from core.body_limits import BodySizeLimitMiddleware  # noqa: E402

# Bodies over their route's limit are refused before Django reads (and spools) them.
http_app = BodySizeLimitMiddleware(http_app)


async def lifespan(scope, receive, send):
    """Server start: remember the loop replies are generated on, start the periodic reaper."""
    import asyncio

    from conversations import generation

    reaper = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            generation.remember_server_loop()
            reaper = asyncio.get_running_loop().create_task(
                generation.reap_periodically(on_start=settings.CHAT["REAP_ON_START"]), name="reaper"
            )
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if reaper is not None:
                reaper.cancel()
            from core.db import close_background_connections

            await asyncio.to_thread(close_background_connections)
            await send({"type": "lifespan.shutdown.complete"})
            return


application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
        "lifespan": lifespan,
    }
)
