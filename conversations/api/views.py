"""Thin views: validate input, call a selector or service, serialize."""

from django.conf import settings
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.selectors import user_list
from core.pagination import OldestFirstCursorPagination
from core.viewsets import UUID_PATTERN

from .. import selectors, services, tree
from ..models import IN_FLIGHT_STATUSES, Conversation, Message
from ..streaming import listener
from . import schema, stream
from . import serializers as s


def stream_url(conversation: Conversation) -> str:
    return reverse("conversation-stream", kwargs={"pk": conversation.pk})


def _finished(message: Message) -> Message:
    """``?wait=true``: the reply, started like any other, followed to its end (at most
    ``CHAT_WAIT_SECONDS``), as saved."""
    listener.reply_wait(message, timeout=settings.CHAT["WAIT_SECONDS"])
    return Message.objects.select_related("model").get(pk=message.pk)


def _sent_payload(conversation, user_message, assistant_message, *, new_turn: bool = False) -> dict:
    """``new_turn``: a question just asked under the current leaf (or a first one), so neither
    message has another version yet, and reading the tree would say nothing new."""
    if new_turn:
        context = {"sibling_ids": {str(m.pk): [str(m.pk)] for m in (user_message, assistant_message)}}
    else:
        context = {"skeleton": tree.Skeleton.of(conversation.pk)}  # both messages' versions, one query
    return {
        "user_message": s.MessageSerializer(user_message, context=context).data,
        "assistant_message": s.MessageSerializer(assistant_message, context=context).data,
        "stream_url": stream_url(conversation),
    }


def _continued_payload(conversation, reply) -> dict:
    return {"assistant_message": s.MessageSerializer(reply).data, "stream_url": stream_url(conversation)}


def _sent_response(conversation, user_message, assistant_message, *, wait: bool, new_turn: bool = False) -> Response:
    """A question just asked: 202 with its pending reply, or with ``?wait=true`` 201 with it finished."""
    if wait:
        assistant_message = _finished(assistant_message)
    done = wait and assistant_message.status not in IN_FLIGHT_STATUSES
    return Response(
        _sent_payload(conversation, user_message, assistant_message, new_turn=new_turn),
        status=status.HTTP_201_CREATED if done else status.HTTP_202_ACCEPTED,
    )


# --- public catalog ---------------------------------------------------------------------------


class _PublicCatalogViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    # Public: a stale or bad bearer token must not turn a public page into a 401.
    permission_classes = [AllowAny]
    authentication_classes: list = []
    pagination_class = None


@schema.MODELS
class ModelViewSet(_PublicCatalogViewSet):
    serializer_class = s.PublicModelSerializer

    def get_queryset(self):
        return selectors.model_list_public()


@schema.PROMPTS
class PromptViewSet(_PublicCatalogViewSet):
    serializer_class = s.PromptSerializer

    def get_queryset(self):
        query = s.PromptQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.prompt_list_public(
            category=query.validated_data.get("category"), language=translation.get_language()
        )


# --- conversations ----------------------------------------------------------------------------


def _wait_flag(request) -> bool:
    query = s.WaitQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["wait"]


class MessagePagination(OldestFirstCursorPagination):
    pass


# The operations that start a reply and answer with its stream when asked (``Accept: text/event-stream``).
_STREAMED_ACTIONS = frozenset({"create", "messages", "regenerate", "edit", "regenerate_message", "continue_reply"})


@schema.CONVERSATIONS
class ConversationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ConversationSerializer
    lookup_value_regex = UUID_PATTERN
    refusals = schema.CONVERSATION_REFUSALS
    event_stream = False  # the request asked for the reply's stream (see ``_sent``)

    def perform_content_negotiation(self, request, force=False):
        if (
            request.method == "POST"
            and self.action in _STREAMED_ACTIONS
            and stream.prefers_event_stream(request.headers.get("Accept"))
        ):
            # The answer will be the reply's stream; whatever is refused before it exists is JSON.
            self.event_stream = True
            renderer = JSONRenderer()
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    def _sent(self, conversation, user_message, assistant_message, *, wait: bool, new_turn: bool = False, extra=None):
        """A question just asked: its reply's stream when asked for, else the JSON answer."""
        if not self.event_stream:
            return _sent_response(conversation, user_message, assistant_message, wait=wait, new_turn=new_turn)
        created = {
            "conversation_id": str(conversation.pk),
            **(extra or {}),
            **_sent_payload(conversation, user_message, assistant_message, new_turn=new_turn),
        }
        return stream.reply_stream(user=self.request.user, message=assistant_message, created=created)

    def get_queryset(self):
        if self.action == "list":
            query = s.ConversationListQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            return selectors.conversation_list(user=self.request.user, **query.validated_data)
        # Only reads show the message count and preview; writes need just the row.
        return selectors.conversations_owned(user=self.request.user, summary=self.action == "retrieve")

    def _summary(self, conversation: Conversation):
        conversation = selectors.conversation_get(user=self.request.user, pk=conversation.pk)
        return s.ConversationSerializer(conversation).data

    def create(self, request):
        data = s.ConversationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wait = _wait_flag(request)
        v = data.validated_data
        conversation, sent = services.conversation_start(
            user=request.user,
            title=v["title"],
            model_slug=v["model"],
            system_prompt=v["system_prompt"],
            message=v["message"],
            attachments=v["attachments"],
            item_ids=v["item_ids"],
            tools=v["tools"],
        )
        if sent is not None and self.event_stream:
            summary = self._summary(conversation)
            return self._sent(conversation, *sent, wait=False, new_turn=True, extra={"conversation": summary})
        if sent is not None and wait:
            sent = (sent[0], _finished(sent[1]))
        body = self._summary(conversation)
        if sent is not None:
            body.update(_sent_payload(conversation, *sent, new_turn=True))
        return Response(body, status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk):
        return Response(s.ConversationSerializer(self.get_object()).data)

    def update(self, request, pk, partial: bool = False):
        conversation = self.get_object()
        data = s.ConversationUpdateSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "model" in changes:
            changes["model_slug"] = changes.pop("model")
        services.conversation_update(conversation=conversation, user=request.user, **changes)
        return Response(self._summary(conversation))

    def partial_update(self, request, pk):
        return self.update(request, pk, partial=True)

    def destroy(self, request, pk):
        services.conversation_delete(conversation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(
        detail=True,
        methods=["get", "post"],
        serializer_class=s.MessageSerializer,
        pagination_class=MessagePagination,
    )
    def messages(self, request, pk):
        if request.method == "POST":
            return self._send(request, pk)
        conversation = self.get_object()
        if request.method == "GET":
            skeleton, path = tree.active_path(conversation)
            page = self.paginate_queryset(
                selectors.message_list(conversation=conversation, user=request.user, path=path)
            )
            data = s.MessageSerializer(page, many=True, context={"skeleton": skeleton}).data
            return self.get_paginated_response(data)

    def _send(self, request, pk):
        """The hot path: the service reads the conversation (yours or nothing) with everything it
        checks in one statement, so it is not read here first."""
        data = s.MessageCreateSerializer(data=request.data)
        wait = s.WaitQuerySerializer(data=request.query_params)
        if not (data.is_valid() & wait.is_valid()):  # both checked, each names its own fields
            self.get_object()  # anyone else's conversation is a 404, whatever the body or ?wait say
            data.is_valid(raise_exception=True)
            wait.is_valid(raise_exception=True)
        wait = wait.validated_data["wait"]
        parent_id = data.validated_data.get("parent_id", services.CURRENT)
        try:
            sent = services.message_send(
                conversation=pk,
                user=request.user,
                content=data.validated_data["content"],
                model_slug=data.validated_data.get("model"),
                attachments=data.validated_data["attachments"],
                parent_id=parent_id,
            )
        except Conversation.DoesNotExist as exc:
            raise Http404 from exc
        # Under the current leaf (by default, or named): a new turn, alone of its kind.
        return self._sent(sent[0].conversation, *sent, wait=wait, new_turn=sent.new_turn)

    @action(detail=True, methods=["post"])
    def regenerate(self, request, pk):
        conversation = self.get_object()
        data = s.RegenerateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wait = _wait_flag(request)
        sent = services.message_resend(
            conversation=conversation, user=request.user, model_slug=data.validated_data.get("model")
        )
        return self._sent(conversation, *sent, wait=wait)

    @action(detail=True, methods=["post"])
    def edit(self, request, pk):
        conversation = self.get_object()
        data = s.EditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wait = _wait_flag(request)
        v = data.validated_data
        sent = services.message_resend(
            conversation=conversation,
            user=request.user,
            message_id=v["message_id"],
            content=v["content"],
            model_slug=v.get("model"),
        )
        return self._sent(conversation, *sent, wait=wait)

    @action(
        detail=True,
        methods=["post"],
        url_path=f"messages/(?P<message_id>{UUID_PATTERN})/continue",
        url_name="message-continue",
    )
    def continue_reply(self, request, pk, message_id):
        conversation = self.get_object()
        wait = _wait_flag(request)
        reply = services.reply_continue(conversation=conversation, user=request.user, message_id=message_id)
        if self.event_stream:
            created = {"conversation_id": str(conversation.pk), **_continued_payload(conversation, reply)}
            return stream.reply_stream(user=request.user, message=reply, created=created)
        if wait:
            reply = _finished(reply)
        return Response(_continued_payload(conversation, reply), status=status.HTTP_201_CREATED)

    @action(
        detail=True,
        methods=["post"],
        url_path=f"messages/(?P<message_id>{UUID_PATTERN})/regenerate",
        url_name="message-regenerate",
    )
    def regenerate_message(self, request, pk, message_id):
        conversation = self.get_object()
        data = s.RegenerateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wait = _wait_flag(request)
        sent = services.message_regenerate(
            conversation=conversation,
            user=request.user,
            message_id=message_id,
            model_slug=data.validated_data.get("model"),
        )
        return self._sent(conversation, *sent, wait=wait)

    @action(
        detail=True,
        methods=["post"],
        url_path=f"messages/(?P<message_id>{UUID_PATTERN})/branch",
        url_name="message-branch",
    )
    def branch(self, request, pk, message_id):
        branch = services.conversation_branch(conversation=self.get_object(), user=request.user, message_id=message_id)
        return Response(self._summary(branch), status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get", "put"], url_path="context-items")
    def context_items(self, request, pk):
        conversation = self.get_object()
        if request.method == "PUT":
            data = s.ContextItemsInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            services.conversation_context_set(
                user=request.user, conversation=conversation, item_ids=data.validated_data["item_ids"]
            )
        items = list(selectors.conversation_context_items(conversation=conversation))
        body = {"item_ids": [item.pk for item in items], "items": items}
        return Response(s.ContextItemsSerializer(body, context={"request": request}).data)

    @action(detail=True, methods=["post"])
    def stop(self, request, pk):
        data = s.StopSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.generation_stop(
            conversation=self.get_object(), message_id=data.validated_data.get("message_id")
        )
        return Response({"message": s.MessageSerializer(message).data}, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"])
    def feedback(self, request, pk):
        conversation = self.get_object()
        data = s.FeedbackCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            message = selectors.message_get(conversation=conversation, pk=v["message_id"])
        except Message.DoesNotExist as exc:
            raise NotFound(_("No message with this id in this conversation."), code="message_not_found") from exc
        feedback, created = services.feedback_set(
            user=request.user, message=message, rating=v["rating"], comment=v["comment"]
        )
        return Response(
            s.FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


# --- staff ------------------------------------------------------------------------------------


@schema.STAFF_CONVERSATIONS
class StaffConversationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """``/users/{user_id}/conversations``: staff read (and delete) any user's conversations."""

    permission_classes = [IsAdminUser]
    serializer_class = s.StaffConversationSerializer
    lookup_value_regex = UUID_PATTERN

    def get_target_user(self):
        return get_object_or_404(user_list(), pk=self.kwargs["user_id"])

    def get_queryset(self):
        owner = self.get_target_user()
        if self.action == "list":
            query = s.StaffConversationListQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            return selectors.conversation_list(user=owner, **query.validated_data).select_related("owner")
        return selectors.conversations_owned(user=owner, summary=True).select_related("owner")

    def retrieve(self, request, user_id, pk):
        conversation = self.get_object()
        skeleton, path = tree.active_path(conversation)
        prefetch_related_objects(
            [conversation],
            Prefetch("messages", queryset=selectors.message_list(conversation=conversation, path=path)),
        )
        return Response(s.StaffConversationDetailSerializer(conversation, context={"skeleton": skeleton}).data)

    def destroy(self, request, user_id, pk):
        services.conversation_delete(conversation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
