"""The account's collections as viewsets: device sessions, personal API keys and the plan catalog.

Sign-in, refresh, sign-out and settings are RPC-style and stay views (``views.py``).
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from core.openapi import INVALID_INPUT, NOT_FOUND, ErrorSerializer
from core.viewsets import INT_PATTERN, UUID_PATTERN, PublicActionsMixin

from .. import selectors, services
from ..authentication import current_device
from . import serializers as s


@extend_schema(tags=["auth"])
@extend_schema_view(
    list=extend_schema(summary="List your signed-in devices (sessions)"),
    destroy=extend_schema(summary="Sign a device out", responses={204: None, 404: NOT_FOUND}),
)
class DeviceViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.DeviceSerializer
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        return selectors.device_list(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "current_device": current_device(self.request)}

    def destroy(self, request, pk):
        services.device_revoke(device=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


_TOO_MANY_KEYS = OpenApiResponse(
    ErrorSerializer,
    f"too_many_api_keys: you already have {services.API_KEYS_PER_USER} keys; revoke one first",
)


@extend_schema(tags=["api keys"])
@extend_schema_view(
    list=extend_schema(
        summary="List your API keys (never their secrets)",
        responses={200: s.ApiKeySerializer(many=True)},
    ),
    create=extend_schema(
        summary="Make an API key (its secret is shown only in this answer)",
        description="The key works on the OpenAI-compatible API (`Authorization: Bearer sk-...`), not on this one. "
        "Only a hash of it is stored: keep the `key` now, it cannot be shown again.",
        request=s.ApiKeyCreateSerializer,
        responses={201: s.ApiKeyCreatedSerializer, 400: INVALID_INPUT, 409: _TOO_MANY_KEYS},
    ),
    destroy=extend_schema(
        summary="Revoke an API key (it stops working at once)", responses={204: None, 404: NOT_FOUND}
    ),
)
class ApiKeyViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ApiKeySerializer
    lookup_value_regex = INT_PATTERN

    def get_queryset(self):
        return selectors.api_key_list(user=self.request.user)

    def create(self, request):
        data = s.ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, secret = services.api_key_create(user=request.user, **data.validated_data)
        body = s.ApiKeyCreatedSerializer(key, context={"secret": secret}).data
        # The secret must not be kept by a cache or proxy on the way.
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    def destroy(self, request, pk):
        services.api_key_revoke(key=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["user"])
@extend_schema_view(list=extend_schema(summary="List the plans and their limits (public)"))
class PlanViewSet(PublicActionsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.PlanSerializer
    pagination_class = None
    public_actions = frozenset({"list"})

    def get_queryset(self):
        return selectors.plan_list()
