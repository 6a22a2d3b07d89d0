"""The account's resources as viewsets: device sessions and the plan catalog.

Sign-in, refresh, sign-out and settings are RPC-style and stay views (``views.py``).
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.response import Response

from config.openapi import NOT_FOUND
from config.viewsets import UUID_PATTERN, PublicActionsMixin

from .. import selectors, services
from ..authentication import current_device
from . import serializers as s


@extend_schema(tags=["auth"])
@extend_schema_view(
    list=extend_schema(summary="List your signed-in devices (sessions)"),
    destroy=extend_schema(summary="Sign a device out", responses={204: None, 404: NOT_FOUND}),
)
class DeviceViewSet(viewsets.GenericViewSet):
    serializer_class = s.DeviceSerializer
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        return selectors.device_list(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "current_device": current_device(self.request)}

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def destroy(self, request, pk):
        services.device_revoke(device=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["user"])
@extend_schema_view(list=extend_schema(summary="List the plans and their limits (public)"))
class PlanViewSet(PublicActionsMixin, viewsets.GenericViewSet):
    serializer_class = s.PlanSerializer
    pagination_class = None
    public_actions = frozenset({"list"})

    def get_queryset(self):
        return selectors.plan_list()

    def list(self, request):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)
