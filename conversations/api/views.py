"""Thin views: validate input, call a selector or service, serialize."""

from django.conf import settings
from django.db.models import Prefetch, prefetch_related_objects
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response

from accounts.selectors import user_list
from core.openapi import INVALID_INPUT, NOT_FOUND, ErrorSerializer
from core.pagination import OldestFirstCursorPagination
from core.viewsets import UUID_PATTERN

from .. import selectors, services
from ..models import IN_FLIGHT_STATUSES, Conversation, Message
from ..streaming import listener
from . import serializers as s

_ERROR = ErrorSerializer
_NOT_FOUND = NOT_FOUND
_FIELD_ERRORS = INVALID_INPUT
_LIMIT = OpenApiResponse(_ERROR, "A plan limit was reached: daily_quota_exceeded or too_many_generations")
_CONFLICT = OpenApiResponse(_ERROR, "generation_in_progress: a reply is still being generated here")
_SENT = {
    202: OpenApiResponse(s.MessageSentSerializer, "Accepted: the reply is being generated; follow stream_url"),
    201: OpenApiResponse(s.MessageSentSerializer, "With ?wait=true: the finished reply"),
    400: _FIELD_ERRORS,
    429: _LIMIT,
}


def stream_url(conversation: Conversation) -> str:
    return reverse("conversation-stream", kwargs={"pk": conversation.pk})


def _finished(message: Message) -> Message:
    """``?wait=true``: the reply, started like any other, followed to its end (at most
    ``CHAT_WAIT_SECONDS``), as saved."""
    listener.reply_wait(message, timeout=settings.CHAT["WAIT_SECONDS"])
    return Message.objects.select_related("model").get(pk=message.pk)


def _sent_payload(conversation, user_message, assistant_message) -> dict:
    return {
        "user_message": s.MessageSerializer(user_message).data,
        "assistant_message": s.MessageSerializer(assistant_message).data,
        "stream_url": stream_url(conversation),
    }


def _sent_response(conversation, user_message, assistant_message, *, wait: bool) -> Response:
    """A question just asked: 202 with its pending reply, or with ``?wait=true`` 201 with it finished."""
    if wait:
        assistant_message = _finished(assistant_message)
    done = wait and assistant_message.status not in IN_FLIGHT_STATUSES
    return Response(
        _sent_payload(conversation, user_message, assistant_message),
        status=status.HTTP_201_CREATED if done else status.HTTP_202_ACCEPTED,
    )


_WAIT = OpenApiParameter(
    "wait",
    bool,
    description="true: answer once the reply has finished (201 with it); a reply still going after "
    "`CHAT_WAIT_SECONDS` (300) is answered 202 as without `wait`, and goes on.",
)

# --- public catalog ---------------------------------------------------------------------------


class _PublicCatalogViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    # Public: a stale or bad bearer token must not turn a public page into a 401.
    permission_classes = [AllowAny]
    authentication_classes: list = []
    pagination_class = None


@extend_schema(tags=["catalog"])
@extend_schema_view(list=extend_schema(summary="List the models you can chat with"))
class ModelViewSet(_PublicCatalogViewSet):
    serializer_class = s.PublicModelSerializer

    def get_queryset(self):
        return selectors.model_list_public()


@extend_schema(tags=["catalog"])
@extend_schema_view(
    list=extend_schema(
        summary="List the prompt library",
        parameters=[s.PromptQuerySerializer],
        responses={200: s.PromptSerializer(many=True), 400: _FIELD_ERRORS},
    )
)
class PromptViewSet(_PublicCatalogViewSet):
    serializer_class = s.PromptSerializer

    def get_queryset(self):
        query = s.PromptQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.prompt_list_public(category=query.validated_data.get("category"))


# --- conversations ----------------------------------------------------------------------------


def _wait_flag(request) -> bool:
    query = s.WaitQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["wait"]


class MessagePagination(OldestFirstCursorPagination):
    pass


_CONVERSATION_WRITE = {
    "request": s.ConversationUpdateSerializer,
    "responses": {200: s.ConversationSerializer, 400: _FIELD_ERRORS, 404: _NOT_FOUND},
}


@extend_schema(tags=["conversations"])
@extend_schema_view(
    list=extend_schema(
        summary="List or search your conversations",
        parameters=[s.ConversationListQuerySerializer],
        responses={200: s.ConversationSerializer(many=True), 400: _FIELD_ERRORS},
    ),
    create=extend_schema(
        summary="Start a conversation (optionally with its first message)",
        request=s.ConversationCreateSerializer,
        parameters=[_WAIT],
        responses={201: s.ConversationCreatedSerializer, 400: _FIELD_ERRORS, 409: _CONFLICT, 429: _LIMIT},
    ),
    retrieve=extend_schema(
        summary="Get one of your conversations", responses={200: s.ConversationSerializer, 404: _NOT_FOUND}
    ),
    update=extend_schema(summary="Change a conversation's title, model, pin or archive", **_CONVERSATION_WRITE),
    partial_update=extend_schema(summary="Change some of a conversation's settings", **_CONVERSATION_WRITE),
    destroy=extend_schema(summary="Delete a conversation", responses={204: None, 404: _NOT_FOUND}),
    stop=extend_schema(
        summary="Stop the reply being generated",
        request=None,
        responses={
            202: s.StopResponseSerializer,
            404: _NOT_FOUND,
            409: OpenApiResponse(_ERROR, "nothing_in_flight: no reply is being generated"),
        },
    ),
    regenerate=extend_schema(
        summary="Answer the last message again; the new reply streams from stream_url",
        description=(
            "Asks the conversation's last user message again, unchanged. That message and the reply to it "
            "are superseded: hidden from the conversation (kept on the server), replaced by a new copy of "
            "the message and a new reply. Costs one message of the day's quota, as sending does."
        ),
        request=s.RegenerateSerializer,
        parameters=[_WAIT],
        responses={
            **_SENT,
            404: _NOT_FOUND,
            409: OpenApiResponse(
                _ERROR,
                "nothing_to_regenerate: the conversation has no message of yours; "
                "generation_in_progress: a reply is still being generated here",
            ),
        },
    ),
    edit=extend_schema(
        summary="Edit your last message and answer it; the new reply streams from stream_url",
        description=(
            "Replaces the conversation's last user message with new text. The old message and the reply to it "
            "are superseded: hidden from the conversation (kept on the server), replaced by the new message and "
            "a new reply. Costs one message of the day's quota, as sending does."
        ),
        request=s.EditSerializer,
        parameters=[_WAIT],
        responses={
            **_SENT,
            404: OpenApiResponse(
                _ERROR, "Not found (also for anything that is not yours); message_not_found: no such message here"
            ),
            409: OpenApiResponse(
                _ERROR,
                "not_last_message: that is not the conversation's last message of yours; "
                "generation_in_progress: a reply is still being generated here",
            ),
        },
    ),
    context_items=extend_schema(
        summary="The collector items given to the model as context",
        responses={200: s.ContextItemsSerializer, 404: _NOT_FOUND},
    ),
    feedback=extend_schema(
        summary="Rate a message (one rating per user and message, changeable)",
        request=s.FeedbackCreateSerializer,
        responses={201: s.FeedbackSerializer, 200: s.FeedbackSerializer, 400: _FIELD_ERRORS, 404: _NOT_FOUND},
    ),
)
class ConversationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ConversationSerializer
    lookup_value_regex = UUID_PATTERN
    refusals = {403: OpenApiResponse(_ERROR, "model_not_in_plan: your plan does not include that model")}

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
        )
        if sent is not None and wait:
            sent = (sent[0], _finished(sent[1]))
        body = self._summary(conversation)
        if sent is not None:
            body.update(_sent_payload(conversation, *sent))
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

    @extend_schema(
        methods=["GET"],
        summary="List a conversation's messages, oldest first",
        responses={200: s.MessageSerializer(many=True), 404: _NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Send a message; the reply streams from stream_url",
        request=s.MessageCreateSerializer,
        parameters=[_WAIT],
        responses={**_SENT, 404: _NOT_FOUND, 409: _CONFLICT},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        serializer_class=s.MessageSerializer,
        pagination_class=MessagePagination,
    )
    def messages(self, request, pk):
        conversation = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.message_list(conversation=conversation, user=request.user))
            return self.get_paginated_response(s.MessageSerializer(page, many=True).data)
        data = s.MessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wait = _wait_flag(request)
        sent = services.message_send(
            conversation=conversation,
            user=request.user,
            content=data.validated_data["content"],
            model_slug=data.validated_data.get("model"),
        )
        return _sent_response(conversation, *sent, wait=wait)

    @action(detail=True, methods=["post"])
    def regenerate(self, request, pk):
        conversation = self.get_object()
        data = s.RegenerateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wait = _wait_flag(request)
        sent = services.message_resend(
            conversation=conversation, user=request.user, model_slug=data.validated_data.get("model")
        )
        return _sent_response(conversation, *sent, wait=wait)

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
        return _sent_response(conversation, *sent, wait=wait)

    @extend_schema(
        methods=["PUT"],
        summary="Choose the collector items given to the model as context",
        request=s.ContextItemsInputSerializer,
        responses={200: s.ContextItemsSerializer, 400: _FIELD_ERRORS, 404: _NOT_FOUND},
    )
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
        message = services.generation_stop(conversation=self.get_object())
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
            raise NotFound("No message with this id in this conversation.", code="message_not_found") from exc
        feedback, created = services.feedback_set(
            user=request.user, message=message, rating=v["rating"], comment=v["comment"]
        )
        return Response(
            s.FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


# --- staff ------------------------------------------------------------------------------------


@extend_schema(tags=["staff"])
@extend_schema_view(
    list=extend_schema(
        summary="Staff: list a user's conversations",
        parameters=[s.StaffConversationListQuerySerializer],
        responses={200: s.StaffConversationSerializer(many=True), 400: _FIELD_ERRORS, 404: _NOT_FOUND},
    ),
    retrieve=extend_schema(
        summary="Staff: read a user's conversation with its messages",
        responses={200: s.StaffConversationDetailSerializer, 404: _NOT_FOUND},
    ),
    destroy=extend_schema(summary="Staff: delete a user's conversation", responses={204: None, 404: _NOT_FOUND}),
)
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
        prefetch_related_objects(
            [conversation], Prefetch("messages", queryset=selectors.message_list(conversation=conversation))
        )
        return Response(s.StaffConversationDetailSerializer(conversation).data)

    def destroy(self, request, user_id, pk):
        services.conversation_delete(conversation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
