import asyncio
import logging
import uuid

import httpx
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _check_channel_layer() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("healthz.")
    probe = uuid.uuid4().hex
    await layer.send(channel, {"type": "healthz.probe", "probe": probe})
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    if message.get("probe") != probe:
        raise RuntimeError("channel layer returned a different message")


async def _check_local_model() -> str | None:
    """The embedded model's server (its own process) must answer when an enabled model uses it."""
    from conversations.models import LLMModel, Provider

    if not await LLMModel.objects.filter(provider=Provider.LOCAL, enabled=True).aexists():
        return "unused"
    url = settings.CHAT["LOCAL_MODEL_URL"].rstrip("/") + "/models"
    async with httpx.AsyncClient(timeout=2) as client:
        response = await client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return None


async def _check_local_embedding() -> str | None:
    """The embedded embedding model's server (its own process) must answer when /v1/embeddings
    uses it: ``CHAT["LOCAL_EMBEDDING_URL"]`` set and no embedding model configured for knowledge."""
    from knowledge.embeddings import active_settings

    base = settings.CHAT.get("LOCAL_EMBEDDING_URL") or ""
    if not base or await sync_to_async(active_settings)() is not None:
        return "unused"
    url = base.rstrip("/") + "/models"
    async with httpx.AsyncClient(timeout=2) as client:
        response = await client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return None


# Reported, but not a reason to take the process out of a load balancer: without it only
# /v1/embeddings fails (502), and chat goes on. (A deployment upgraded without the new process
# keeps serving.)
NOT_REQUIRED = ("local_embedding",)


async def healthz(request):
    """Liveness and readiness: 200 when the database, the channel layer and the local model server
    (if an enabled model uses it) answer, else 503; the local embedding server's state (if
    /v1/embeddings uses it) is reported with them, ``"status": "degraded"`` when it is down."""
    checks = {}
    for name, check in (
        ("database", sync_to_async(_check_database)),
        ("channel_layer", _check_channel_layer),
        ("local_model", _check_local_model),
        ("local_embedding", _check_local_embedding),
    ):
        try:
            checks[name] = await check() or "ok"
        except Exception as exc:  # report, do not crash: this endpoint exists to say what is wrong
            logger.warning("healthz: %s failed: %s", name, exc)
            checks[name] = "error"
    healthy = all(v in ("ok", "unused") for name, v in checks.items() if name not in NOT_REQUIRED)
    degraded = any(checks[name] == "error" for name in NOT_REQUIRED)
    status = "error" if not healthy else "degraded" if degraded else "ok"
    return JsonResponse({"status": status, **checks}, status=200 if healthy else 503)
