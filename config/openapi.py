"""Shared pieces of the OpenAPI document."""

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The error shape of every endpoint (config.exceptions): a message and a stable code."""

    detail = serializers.CharField()
    code = serializers.CharField()
