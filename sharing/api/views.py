"""Thin views: validate input, call a selector or service, serialize."""

from django.db.models import Count
from django.http import Http404
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response

from accounts.authentication import OptionalDeviceJWTAuthentication
from conversations.models import Conversation, OriginKind
from conversations.selectors import conversations_owned
from core.viewsets import UUID_PATTERN, PublicActionsMixin

from .. import selectors, services
from . import schema
from . import serializers as s


def _cloned_payload(conversation: Conversation) -> dict:
    conversation = (
        Conversation.objects.select_related("model").annotate(message_count=Count("messages")).get(pk=conversation.pk)
    )
    return s.ClonedConversationSerializer(conversation).data


def _conversation_or_404(*, pk, owner=None) -> Conversation:
    """One of ``owner``'s conversations (any user's for staff publishing a sample); never an API
    request's, which is not the app's to show."""
    if owner is not None:
        qs = conversations_owned(user=owner, summary=False)
    else:
        qs = Conversation.objects.exclude(origin_kind=OriginKind.API).select_related("model")
    conversation = qs.filter(pk=pk).first()
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


# --- shares -----------------------------------------------------------------------------------


@schema.SHARES
class ShareViewSet(PublicActionsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ShareSerializer
    lookup_url_kwarg = "share_id"
    # URL-safe base64 (models.new_share_id): anything else, a NUL byte included, never reaches a query.
    lookup_value_regex = "[A-Za-z0-9_-]{1,64}"
    public_actions = frozenset({"retrieve"})

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            query = s.ShareListQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            return selectors.share_list(user=user, include_all=query.validated_data["all"])
        if self.action == "destroy":
            return selectors.shares_manageable(user=user)
        return selectors.shares_public()

    def create(self, request):
        data = s.ShareCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        conversation = _conversation_or_404(pk=v["conversation_id"], owner=request.user)
        share = services.share_create(
            user=request.user, conversation=conversation, title=v["title"], expires_at=v["expires_at"]
        )
        return Response(s.ShareSerializer(share, context={"request": request}).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, share_id: str):
        share = self.get_object()
        services.share_register_view(share=share)
        return Response(s.PublicShareSerializer(share).data)

    def destroy(self, request, share_id: str):
        services.share_revoke(share=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def clone(self, request, share_id: str):
        conversation = services.share_clone(share=self.get_object(), user=request.user)
        return Response(_cloned_payload(conversation), status=status.HTTP_201_CREATED)


# --- samples ----------------------------------------------------------------------------------


@schema.SAMPLES
class SampleViewSet(PublicActionsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.SampleSerializer
    lookup_url_kwarg = "sample_id"
    lookup_value_regex = UUID_PATTERN
    public_actions = frozenset({"list", "retrieve"})

    def get_permissions(self):
        if self.action == "create":
            return [IsAdminUser()]
        return super().get_permissions()

    def get_authenticators(self):
        # A sample's page is public, but a valid token still lets staff see unpublished samples;
        # a stale or invalid one is ignored, as on every public read.
        request = getattr(self, "request", None)
        if request is not None and self.action_map.get(request.method.lower()) == "retrieve":
            return [] if getattr(self, "swagger_fake_view", False) else [OptionalDeviceJWTAuthentication()]
        return super().get_authenticators()

    def get_queryset(self):
        if self.action == "list":
            return selectors.sample_list_public()
        return selectors.samples_visible(user=self.request.user)

    def create(self, request):
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

    def retrieve(self, request, sample_id):
        return Response(s.SampleDetailSerializer(self.get_object()).data)

    @action(detail=True, methods=["post"])
    def clone(self, request, sample_id):
        conversation = services.sample_clone(sample=self.get_object(), user=request.user)
        return Response(_cloned_payload(conversation), status=status.HTTP_201_CREATED)
