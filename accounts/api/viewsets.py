"""The account's collections as viewsets: device sessions, personal API keys and the plan catalog.

Sign-in, refresh, sign-out and settings are RPC-style and stay views (``views.py``).
"""

from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from core.viewsets import INT_PATTERN, UUID_PATTERN, PublicActionsMixin

from .. import selectors, services
from ..authentication import current_device
from . import schema
from . import serializers as s


@schema.DEVICES
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


@schema.API_KEYS
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


@schema.PLANS
class PlanViewSet(PublicActionsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.PlanSerializer
    pagination_class = None
    public_actions = frozenset({"list"})

    def get_queryset(self):
        return selectors.plan_list()
