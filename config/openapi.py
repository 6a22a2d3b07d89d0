"""Shared pieces of the OpenAPI document."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The error shape of every endpoint (config.exceptions): a message and a stable code."""

    detail = serializers.CharField()
    code = serializers.CharField()


NOT_FOUND = OpenApiResponse(ErrorSerializer, "Not found (also for anything that is not yours)")
