"""Thin views: validate input, call a selector or service, serialize."""

from django.db.models import Count
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import OptionalDeviceJWTAuthentication
from config.openapi import ErrorSerializer
from conversations.models import Conversation

from .. import selectors, services
from ..models import Sample
from . import serializers as s

_ERROR = ErrorSerializer
_NOT_FOUND = OpenApiResponse(_ERROR, "Not found (also revoked, expired, unpublished or another user's)")
_CLONED = OpenApiResponse(
    s.ClonedConversationSerializer, "The caller's new conversation; continue it with POST /conversations/{id}/messages"
)


def _cloned_payload(conversation: Conversation) -> dict:
    conversation = (
        Conversation.objects.select_related("model").annotate(message_count=Count("messages")).get(pk=conversation.pk)
    )
    return s.ClonedConversationSerializer(conversation).data


def _conversation_or_404(*, pk, owner=None) -> Conversation:
    qs = Conversation.objects.select_related("model")
    if owner is not None:
        qs = qs.filter(owner=owner)
    conversation = qs.filter(pk=pk).first()
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class _PublicReadMixin:
    """Reads are open to anyone; a stale bearer token the client sends must not turn them into 401s.

    Writes keep the normal authentication. ``self.request`` is still Django's HttpRequest when
    DRF asks for authenticators (and None while the schema is generated).
    """

    write_permission = IsAuthenticated

    def _is_read(self) -> bool:
        request = getattr(self, "request", None)
        return request is None or request.method in _SAFE_METHODS

    def get_permissions(self):
        return [AllowAny()] if self._is_read() else [self.write_permission()]

    def get_authenticators(self):
        return [] if self._is_read() else super().get_authenticators()


# --- shares -----------------------------------------------------------------------------------


@extend_schema(tags=["sharing"])
class ShareListView(generics.ListAPIView):
    serializer_class = s.ShareSerializer

    def get_queryset(self):
        query = s.ShareListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.share_list(user=self.request.user, include_all=query.validated_data["all"])

    @extend_schema(parameters=[s.ShareListQuerySerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.ShareCreateSerializer,
        responses={201: s.ShareSerializer, 400: None, 404: _NOT_FOUND},
        description="Snapshot one of your conversations as a public link. Later messages do not appear.",
    )
    def post(self, request):
        data = s.ShareCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        conversation = _conversation_or_404(pk=v["conversation_id"], owner=request.user)
        share = services.share_create(
            user=request.user, conversation=conversation, title=v["title"], expires_at=v["expires_at"]
        )
        return Response(s.ShareSerializer(share, context={"request": request}).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["sharing"])
class ShareDetailView(_PublicReadMixin, APIView):
    @extend_schema(auth=[], responses={200: s.PublicShareSerializer, 404: _NOT_FOUND}, description="Public.")
    def get(self, request, share_id: str):
        share = selectors.share_get_public(share_id=share_id)
        services.share_register_view(share=share)
        return Response(s.PublicShareSerializer(share).data)

    @extend_schema(responses={204: None, 404: _NOT_FOUND}, description="Revoke (owner or staff).")
    def delete(self, request, share_id: str):
        services.share_revoke(share=selectors.share_get_manageable(user=request.user, share_id=share_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["sharing"])
class ShareCloneView(APIView):
    @extend_schema(request=None, responses={201: _CLONED, 404: _NOT_FOUND})
    def post(self, request, share_id: str):
        share = selectors.share_get_public(share_id=share_id)
        conversation = services.share_clone(share=share, user=request.user)
        return Response(_cloned_payload(conversation), status=status.HTTP_201_CREATED)


# --- samples ----------------------------------------------------------------------------------


@extend_schema(tags=["samples"])
class SampleListView(_PublicReadMixin, generics.ListAPIView):
    serializer_class = s.SampleSerializer
    write_permission = IsAdminUser

    def get_queryset(self):
        return selectors.sample_list_public()

    @extend_schema(auth=[], description="Published samples (public).")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.SampleCreateSerializer,
        responses={201: s.SampleDetailSerializer, 400: None, 404: _NOT_FOUND},
        description="Staff only: snapshot a conversation as a sample.",
    )
    def post(self, request):
        data = s.SampleCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        sample = services.sample_create_from_conversation(
            conversation=_conversation_or_404(pk=v["conversation_id"]),
            created_by=request.user,
            title=v["title"],
            description=v["description"],
            published=v["published"],
        )
        return Response(s.SampleDetailSerializer(sample).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["samples"])
class SampleDetailView(APIView):
    permission_classes = [AllowAny]

    def get_authenticators(self):
        # Public (the schema says so): a valid token only lets staff see unpublished samples; a
        # stale or invalid one is ignored, as on every public read.
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return []
        return [OptionalDeviceJWTAuthentication()]

    @extend_schema(
        responses={200: s.SampleDetailSerializer, 404: _NOT_FOUND},
        description="Public for published samples; staff also see unpublished ones.",
    )
    def get(self, request, sample_id):
        sample = selectors.sample_get_visible(user=request.user, sample_id=sample_id)
        return Response(s.SampleDetailSerializer(sample).data)


@extend_schema(tags=["samples"])
class SampleCloneView(APIView):
    @extend_schema(request=None, responses={201: _CLONED, 404: _NOT_FOUND})
    def post(self, request, sample_id):
        sample: Sample = selectors.sample_get_visible(user=request.user, sample_id=sample_id)
        conversation = services.sample_clone(sample=sample, user=request.user)
        return Response(_cloned_payload(conversation), status=status.HTTP_201_CREATED)
