"""WebSocket ``/ws/conversations/<id>/``: the SSE events as JSON, authenticated in-band."""

import asyncio

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError

from accounts.authentication import DeviceJWTAuthentication
from core.db import db_sync_to_async
from core.errors import backing_service_down

from . import services
from .api.stream import end_when_signed_out, parse_last_event_id, parse_message_id
from .exceptions import MessageNotFound, NothingInFlight
from .selectors import conversations_owned
from .streaming import listener

AUTH_TIMEOUT_SECONDS = 10
TOKEN_MAX_CHARS = 4096

CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455: Redis or the database does not answer for now
CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404


def _user_from_token(token: str):
    auth = DeviceJWTAuthentication()
    try:
        return auth.get_user(auth.get_validated_token(token.encode()))
    except (AuthenticationFailed, TokenError, Exception):  # any bad token is just "unauthorized"
        return None


def _owns(user, conversation_id) -> bool:
    return conversations_owned(user=user, summary=False).filter(pk=conversation_id).exists()


def _stop(user, conversation_id, message_id=None) -> None:
    """``{"type": "stop", "message_id"?}``: the same stop as ``POST /conversations/{id}/stop``."""
    conversation = conversations_owned(user=user, summary=False).filter(pk=conversation_id).first()
    if conversation is None:
        return
    try:
        services.generation_stop(conversation=conversation, message_id=message_id)
    except (NothingInFlight, MessageNotFound):
        pass  # nothing to stop: the socket ends with the reply anyway


class ConversationConsumer(AsyncJsonWebsocketConsumer):
    # No channel of the consumer's own: the listener subscribes its own channel to the reply's
    # group. (With one, every connection would poll the channel layer for nothing, and a Redis
    # outage would crash the socket with an abnormal closure instead of a close code.) An alias
    # that is not configured means no layer (channels.layers.get_channel_layer).
    channel_layer_alias = None

    async def connect(self):
        self.user = None
        self.pump: asyncio.Task | None = None
        self.conversation_id = self.scope["url_route"]["kwargs"]["pk"]
        await self.accept()
        self.auth_timer = asyncio.get_running_loop().call_later(AUTH_TIMEOUT_SECONDS, self._auth_timeout)

    def _auth_timeout(self):
        if self.user is None:
            asyncio.ensure_future(self.close(code=CLOSE_UNAUTHORIZED))

    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        if self.user is None:
            await self._authenticate(content if kind == "auth" else {})
        elif kind == "stop":
            try:
                message_id = parse_message_id(content.get("message_id"))
            except ValueError:
                message_id = None
            await db_sync_to_async(_stop)(self.user, self.conversation_id, message_id)

    async def _authenticate(self, content: dict):
        token = content.get("token")
        if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_CHARS:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        user = await db_sync_to_async(_user_from_token)(token)
        if user is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        if not await db_sync_to_async(_owns)(user, self.conversation_id):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        try:
            resume = parse_last_event_id(content.get("last_event_id"))
            wanted = parse_message_id(content.get("message_id"))
        except ValueError:
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        message = await db_sync_to_async(listener.reply_asked_for)(
            self.conversation_id, wanted=wanted, resumed=resume.message_id
        )
        if wanted is not None and message is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.user = user
        self.auth_timer.cancel()
        self.session_watch = asyncio.get_running_loop().create_task(
            end_when_signed_out(user.current_device, self._signed_out)
        )
        last_event_id = resume.seq_for(message.pk) if message is not None else resume.seq
        self.pump = asyncio.create_task(self._forward(last_event_id, message))

    def _signed_out(self) -> None:
        if self.pump is not None:
            self.pump.cancel()
        asyncio.ensure_future(self.close(code=CLOSE_UNAUTHORIZED))

    async def _forward(self, last_event_id, message):
        try:
            async for event in listener.listen(
                conversation_id=self.conversation_id, last_event_id=last_event_id, message=message
            ):
                if event is not None:  # keep-alives: WebSocket pings already do that job
                    await self.send(text_data=event.ws())
        except Exception as exc:
            if not backing_service_down(exc):
                raise
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        await self.close(code=1000)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)
        except ValueError:  # not JSON
            await self.close(code=CLOSE_BAD_REQUEST)
        except Exception as exc:
            if not backing_service_down(exc):
                raise
            await self.close(code=CLOSE_TRY_AGAIN_LATER)

    async def disconnect(self, code):
        timer = getattr(self, "auth_timer", None)
        if timer is not None:
            timer.cancel()
        if self.pump is not None:
            self.pump.cancel()
        if getattr(self, "session_watch", None) is not None:
            self.session_watch.cancel()
