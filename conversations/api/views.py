"""Thin views: validate input, call a selector or service, serialize."""

from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import user_list
from config.openapi import ErrorSerializer
from config.pagination import OldestFirstCursorPagination

from .. import generation, selectors, services
from ..models import Conversation, Message
from . import serializers as s

_ERROR = ErrorSerializer
_NOT_FOUND = OpenApiResponse(_ERROR, "Not found (also for another user's conversation)")
_LIMIT = OpenApiResponse(_ERROR, "A plan limit was reached: daily_quota_exceeded or too_many_generations")
_CONFLICT = OpenApiResponse(_ERROR, "generation_in_progress: a reply is still being generated here")


def stream_url(conversation: Conversation) -> str:
    return reverse("conversation-stream", kwargs={"pk": conversation.pk})


def _generate_now(message: Message) -> Message:
    """Run the reply in this request (``?wait=true``) and return it as saved."""
    generation.generate_now(message_id=message.id)
    return Message.objects.select_related("model").get(pk=message.pk)


def _sent_payload(conversation, user_message, assistant_message) -> dict:
    return {
        "user_message": s.MessageSerializer(user_message).data,
        "assistant_message": s.MessageSerializer(assistant_message).data,
        "stream_url": stream_url(conversation),
    }


_WAIT = OpenApiParameter(
    "wait", bool, description="true: generate the reply before answering (201 with the finished reply)."
)

# --- public catalog ---------------------------------------------------------------------------


class _PublicCatalogView(generics.ListAPIView):
    # Public: a stale or bad bearer token must not turn a public page into a 401.
    permission_classes = [AllowAny]
    authentication_classes: list = []
    pagination_class = None


@extend_schema(tags=["catalog"])
class ModelListView(_PublicCatalogView):
    serializer_class = s.PublicModelSerializer

    def get_queryset(self):
        return selectors.model_list_public()


@extend_schema(tags=["catalog"], parameters=[s.PromptQuerySerializer])
class PromptListView(_PublicCatalogView):
    serializer_class = s.PromptSerializer

    def get_queryset(self):
        query = s.PromptQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.prompt_list_public(category=query.validated_data.get("category"))


# --- conversations ----------------------------------------------------------------------------


class _OwnConversationMixin:
    def get_conversation(self, *, summary: bool = False) -> Conversation:
        try:
            return selectors.conversation_get(user=self.request.user, pk=self.kwargs["pk"], summary=summary)
        except Conversation.DoesNotExist as exc:
            raise Http404 from exc


@extend_schema(tags=["conversations"])
class ConversationListView(generics.ListAPIView):
    serializer_class = s.ConversationSerializer

    def get_queryset(self):
        query = s.ConversationListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.conversation_list(user=self.request.user, **query.validated_data)

    @extend_schema(parameters=[s.ConversationListQuerySerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.ConversationCreateSerializer,
        parameters=[_WAIT],
        responses={201: s.ConversationCreatedSerializer, 400: None, 409: _CONFLICT, 429: _LIMIT},
    )
    def post(self, request):
        data = s.ConversationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wait = _wait_flag(request)
        v = data.validated_data
        sent = None
        # One transaction: a first message refused by a plan limit leaves no empty conversation behind.
        with transaction.atomic():
            conversation = services.conversation_create(
                user=request.user, title=v["title"], model_slug=v["model"], system_prompt=v["system_prompt"]
            )
            if v["message"] is not None:
                sent = services.message_send(
                    conversation=conversation, user=request.user, content=v["message"], wait=wait
                )
        if sent is not None and wait:
            sent = (sent[0], _generate_now(sent[1]))
        conversation = selectors.conversation_get(user=request.user, pk=conversation.pk)
        body = s.ConversationSerializer(conversation).data
        if sent is not None:
            body.update(_sent_payload(conversation, *sent))
        return Response(body, status=status.HTTP_201_CREATED)


def _wait_flag(request) -> bool:
    query = s.WaitQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["wait"]


@extend_schema(tags=["conversations"])
class ConversationDetailView(_OwnConversationMixin, APIView):
    @extend_schema(responses={200: s.ConversationSerializer, 404: _NOT_FOUND})
    def get(self, request, pk):
        return Response(s.ConversationSerializer(self.get_conversation(summary=True)).data)

    def _write(self, request, partial: bool):
        conversation = self.get_conversation()
        data = s.ConversationUpdateSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "model" in changes:
            changes["model_slug"] = changes.pop("model")
        services.conversation_update(conversation=conversation, user=request.user, **changes)
        return Response(s.ConversationSerializer(self.get_conversation(summary=True)).data)

    @extend_schema(request=s.ConversationUpdateSerializer, responses={200: s.ConversationSerializer, 404: _NOT_FOUND})
    def put(self, request, pk):
        return self._write(request, partial=False)

    @extend_schema(request=s.ConversationUpdateSerializer, responses={200: s.ConversationSerializer, 404: _NOT_FOUND})
    def patch(self, request, pk):
        return self._write(request, partial=True)

    @extend_schema(responses={204: None, 404: _NOT_FOUND})
    def delete(self, request, pk):
        services.conversation_delete(conversation=self.get_conversation())
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessagePagination(OldestFirstCursorPagination):
    pass


@extend_schema(tags=["conversations"])
class MessageListView(_OwnConversationMixin, generics.ListAPIView):
    serializer_class = s.MessageSerializer
    pagination_class = MessagePagination

    def get_queryset(self):
        return selectors.message_list(conversation=self.get_conversation(), user=self.request.user)

    @extend_schema(responses={200: s.MessageSerializer(many=True), 404: _NOT_FOUND})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.MessageCreateSerializer,
        parameters=[_WAIT],
        responses={
            202: OpenApiResponse(s.MessageSentSerializer, "Accepted: the reply is being generated; follow stream_url"),
            201: OpenApiResponse(s.MessageSentSerializer, "With ?wait=true: the finished reply"),
            400: None,
            404: _NOT_FOUND,
            409: _CONFLICT,
            429: _LIMIT,
        },
    )
    def post(self, request, pk):
        conversation = self.get_conversation()
        data = s.MessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wait = _wait_flag(request)
        user_message, assistant_message = services.message_send(
            conversation=conversation,
            user=request.user,
            content=data.validated_data["content"],
            model_slug=data.validated_data.get("model"),
            wait=wait,
        )
        if wait:
            assistant_message = _generate_now(assistant_message)
        return Response(
            _sent_payload(conversation, user_message, assistant_message),
            status=status.HTTP_201_CREATED if wait else status.HTTP_202_ACCEPTED,
        )


@extend_schema(tags=["conversations"])
class StopView(_OwnConversationMixin, APIView):
    @extend_schema(
        request=None,
        responses={
            202: s.StopResponseSerializer,
            404: _NOT_FOUND,
            409: OpenApiResponse(_ERROR, "nothing_in_flight: no reply is being generated"),
        },
    )
    def post(self, request, pk):
        message = services.generation_stop(conversation=self.get_conversation())
        return Response({"message": s.MessageSerializer(message).data}, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["conversations"])
class FeedbackView(_OwnConversationMixin, APIView):
    @extend_schema(
        request=s.FeedbackCreateSerializer,
        responses={201: s.FeedbackSerializer, 200: s.FeedbackSerializer, 400: None, 404: _NOT_FOUND},
    )
    def post(self, request, pk):
        conversation = self.get_conversation()
        data = s.FeedbackCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            message = selectors.message_get(conversation=conversation, pk=v["message_id"])
        except Message.DoesNotExist as exc:
            raise serializers.ValidationError(
                {"message_id": ["No message with this id in this conversation."]}, code="not_found"
            ) from exc
        feedback, created = services.feedback_set(
            user=request.user, message=message, rating=v["rating"], comment=v["comment"]
        )
        return Response(
            s.FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


# --- staff ------------------------------------------------------------------------------------


class _StaffMixin:
    permission_classes = [IsAdminUser]

    def get_target_user(self):
        return get_object_or_404(user_list(), pk=self.kwargs["user_id"])


@extend_schema(tags=["staff"])
class StaffConversationListView(_StaffMixin, generics.ListAPIView):
    serializer_class = s.StaffConversationSerializer

    def get_queryset(self):
        query = s.StaffConversationListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        owner = self.get_target_user()
        return selectors.conversation_list(user=owner, **query.validated_data).select_related("owner")

    @extend_schema(
        parameters=[s.StaffConversationListQuerySerializer],
        responses={200: s.StaffConversationSerializer(many=True), 404: _NOT_FOUND},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["staff"])
class StaffConversationDetailView(_StaffMixin, APIView):
    def get_conversation(self) -> Conversation:
        owner = self.get_target_user()
        try:
            conversation = selectors.conversation_get(user=owner, pk=self.kwargs["pk"])
        except Conversation.DoesNotExist as exc:
            raise Http404 from exc
        conversation.owner = owner
        return conversation

    @extend_schema(responses={200: s.StaffConversationDetailSerializer, 404: _NOT_FOUND})
    def get(self, request, user_id, pk):
        conversation = self.get_conversation()
        prefetch_related_objects(
            [conversation], Prefetch("messages", queryset=selectors.message_list(conversation=conversation))
        )
        return Response(s.StaffConversationDetailSerializer(conversation).data)

    @extend_schema(responses={204: None, 404: _NOT_FOUND})
    def delete(self, request, user_id, pk):
        services.conversation_delete(conversation=self.get_conversation())
        return Response(status=status.HTTP_204_NO_CONTENT)
