"""``GET /conversations/{id}/stream``: Server-Sent Events of one reply: the one ``?message_id=`` or
the ``Last-Event-ID`` names, else the current leaf's (or the newest) reply.

An async Django view, so a waiting client costs no thread. DRF views are sync, so ``StreamView`` is
an APIView only for the OpenAPI document (``schema.STREAM``): ``as_view()`` hands Django the async
function below.
"""

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass

from django.db import close_old_connections, connection
from django.http import JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer

from accounts.authentication import DeviceJWTAuthentication, session_is_live
from core.db import db_sync_to_async
from core.viewsets import AsyncViewDocs

from ..models import Conversation
from ..selectors import conversations_owned
from ..streaming import listener
from ..streaming.events import CREATED_EVENT, LAST_EVENT_ID_MAX
from . import schema

logger = logging.getLogger(__name__)

_EVENT_ID_DIGITS = re.compile(r"[0-9]{1,10}")
SESSION_RECHECK_SECONDS = 3.0


async def end_when_signed_out(device, stop) -> None:
    """Call ``stop`` within ``SESSION_RECHECK_SECONDS`` of the stream's session ending (sign-out,
    device revoked, password change, user deactivated): a stream must not outlive its session."""
    while True:
        await asyncio.sleep(SESSION_RECHECK_SECONDS)
        try:
            # Not on the request's thread: a stream's generator may be closed after its request
            # has ended and the thread gone to another (core/asgi.py).
            live = await db_sync_to_async(session_is_live, thread_sensitive=False)(device)
        except Exception:  # a database hiccup: look again next time
            logger.warning("could not check the session of a stream", exc_info=True)
            continue
        if not live:
            stop()
            return


def _json_error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def _authenticate(request):
    try:
        result = DeviceJWTAuthentication().authenticate(request)
    except exceptions.AuthenticationFailed as exc:
        return None, exc
    return (result[0] if result else None), None


def _own_conversation(user, pk) -> Conversation | None:
    # The one "yours or nothing" (an API request's conversation is not the app's either).
    return conversations_owned(user=user, summary=False).select_related(None).only("id").filter(pk=pk).first()


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a client is: the reply its last event was of (``None`` for a bare number, which an
    older client sends) and that event's number (``None``: it has nothing yet)."""

    message_id: str | None = None
    seq: int | None = None

    def seq_for(self, message_id) -> int | None:
        """The number to resume ``message_id`` after: none when the client's id is another reply's."""
        if self.message_id is not None and self.message_id != str(message_id):
            return None
        return self.seq


def parse_last_event_id(value) -> Resume:
    """The id a client says it has: ``<message id>:<n>`` as the stream writes ids, or a bare ``n``
    (ASCII digits only: Python's ``int()`` would also take ``+5``, `` 5``, ``5_0`` and other
    scripts' digits). A WebSocket's JSON may send a bare number as a number."""
    if value in (None, ""):
        return Resume()
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        text = ""
    message_id, _sep, number = text.rpartition(":")
    if message_id:
        try:
            message_id = str(uuid.UUID(message_id))
        except ValueError:
            message_id = ""
            number = ""
    if not _EVENT_ID_DIGITS.fullmatch(number) or int(number) > LAST_EVENT_ID_MAX:
        raise ValueError(
            _("Must be the id of the last event received: <message id>:<number>, or a non-negative integer.")
        )
    return Resume(message_id or None, int(number))


def parse_message_id(value) -> str | None:
    """``?message_id=``: the reply to follow, a UUID (``ValueError`` otherwise)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(_("Must be a valid UUID."))
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise ValueError(_("Must be a valid UUID.")) from exc


def _open_stream(request, pk, *, wanted: str | None, resume: Resume):
    """Authenticate, find the conversation (yours or nothing) and the reply to follow: one thread
    hop, two statements (the session; the reply with the conversation's ownership), a third only
    when no reply is found (is the conversation there at all?)."""
    user, failure = _authenticate(request)
    if user is None:
        return None, failure, None, None
    owned = conversations_owned(user=user, summary=False).select_related(None)
    message = listener.reply_among(owned, pk, wanted=wanted, resumed=resume.message_id)
    if message is not None:
        return user, None, message.conversation_id, message
    conversation = _own_conversation(user, pk)
    return user, None, conversation.pk if conversation is not None else None, None


async def stream_view(request, pk):
    if request.method != "GET":
        response = _json_error(405, f'Method "{request.method}" not allowed.', "method_not_allowed")
        response["Allow"] = "GET"  # RFC 9110: a 405 lists the methods that are allowed
        return response
    try:
        header = request.headers.get("Last-Event-ID")
        if not header and request.GET.get("last_event_id") == "":  # named, but blank (the schema's pattern)
            raise ValueError(
                _("Must be the id of the last event received: <message id>:<number>, or a non-negative integer.")
            )
        resume = parse_last_event_id(header or request.GET.get("last_event_id"))
    except ValueError as exc:
        resume = exc
    try:
        if request.GET.get("message_id") == "":  # named, but blank: not a UUID (the schema says so)
            raise ValueError(_("Must be a valid UUID."))
        wanted = parse_message_id(request.GET.get("message_id"))
    except ValueError as exc:
        wanted = exc
    user, failure, conversation_id, message = await db_sync_to_async(_open_stream)(
        request,
        pk,
        wanted=None if isinstance(wanted, ValueError) else wanted,
        resume=Resume() if isinstance(resume, ValueError) else resume,
    )
    if user is None:
        detail = str(failure.detail) if failure else _("Authentication credentials were not provided.")
        code = failure.get_codes() if failure else "not_authenticated"
        response = _json_error(401, detail, code if isinstance(code, str) else "authentication_failed")
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    if conversation_id is None:
        return _json_error(404, _("No Conversation matches the given query."), "not_found")
    if isinstance(resume, ValueError):
        return JsonResponse({"last_event_id": [str(resume)]}, status=400)
    if isinstance(wanted, ValueError):
        return JsonResponse({"message_id": [str(wanted)]}, status=400)
    if wanted is not None and message is None:
        return _json_error(404, _("No reply with this id in this conversation."), "message_not_found")
    last_event_id = resume.seq_for(message.pk) if message is not None else resume.seq
    follower = listener.Listener(conversation_id=conversation_id, last_event_id=last_event_id, message=message)
    await follower.open()
    return _event_stream(_sse(follower, user.current_device))


async def _sse(follower: listener.Listener, device, first: bytes = b""):
    """The stream's bytes: the reconnect hint, ``first`` (if any), then the reply's events, ended
    within seconds of the session ending."""
    watchdog = None
    if device is not None:  # a bearer's session (the API's only way in)
        watchdog = asyncio.get_running_loop().create_task(end_when_signed_out(device, follower.stop))
    try:
        yield b"retry: 2000\n\n" + first
        await follower.open()  # nothing to read when the caller opened it, or named its reply
        async for event in follower.events():
            yield b": keep-alive\n\n" if event is None else event.sse()
    finally:
        if watchdog is not None:
            watchdog.cancel()


def _event_stream(body) -> StreamingHttpResponse:
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


# --- one request per reply: a send answered with its reply's stream ------------------------------


def _accept_q(params: list[str]) -> float:
    for param in params:
        name, _sep, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def prefers_event_stream(accept: str | None) -> bool:
    """Whether an ``Accept`` header asks for ``text/event-stream`` rather than JSON: named, with a
    weight above JSON's (``application/json``, else ``application/*``, else ``*/*``); at an equal
    weight, over a wildcard, or listed before ``application/json``."""
    if not accept:
        return False
    sse_q, sse_at = 0.0, None
    json_q, json_at, json_exact = 0.0, None, -1
    for at, item in enumerate(accept.split(",")):
        media, *params = item.split(";")
        media = media.strip().lower()
        q = _accept_q(params)
        if media == "text/event-stream":
            if sse_at is None or q > sse_q:
                sse_q, sse_at = q, at
        elif media in ("application/json", "application/*", "*/*"):
            exactness = ("*/*", "application/*", "application/json").index(media)
            if exactness > json_exact:
                json_q, json_at, json_exact = q, at, exactness
    if sse_at is None or sse_q <= 0:
        return False
    if sse_q != json_q or json_at is None:
        return sse_q > json_q
    return json_exact < 2 or sse_at < json_at


def reply_stream(*, user, message, created: dict) -> StreamingHttpResponse:
    """The answer to a send that asked for ``text/event-stream``: a ``message.created`` event with
    what the JSON answer would say (id ``<reply id>:0``), then the reply's events from its first, as
    ``GET /stream`` sends them (same ids: resume there with ``Last-Event-ID``). The reply is a
    server task: it goes on, and is saved, when the client leaves. Built in a sync view, it streams
    from the server's loop (an async iterator under ASGI), holding no thread."""
    follower = listener.Listener(
        conversation_id=message.conversation_id, last_event_id=0, message=message, starts_here=True
    )
    if not connection.in_atomic_block:
        # Django gives the view thread's connection back only when the response ends: a stream
        # must not keep it (see core.db), and whatever the stream reads closes its own. (SQLite's
        # stays with the thread, which is not the stream's: core/asgi.py.)
        close_old_connections()
    data = JSONRenderer().render(created)
    first = b"id: %s:0\nevent: %s\ndata: %s\n\n" % (str(message.pk).encode(), CREATED_EVENT.encode(), data)
    return _event_stream(_sse(follower, getattr(user, "current_device", None), first))


@schema.STREAM
class StreamView(AsyncViewDocs):
    """Documentation shell; requests are served by ``stream_view``."""

    serve = staticmethod(stream_view)

    def get(self, request, pk):  # pragma: no cover - documentation only
        raise NotImplementedError
