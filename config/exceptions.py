"""One error shape for the API: services raise plain Django exceptions, clients see DRF shapes."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    # simplejwt adds a "messages" list (token class, type, message) to the shape: one shape only.
    if isinstance(response.data, dict) and "detail" in response.data:
        response.data.pop("messages", None)
    # {"detail": ..., "code": ...} for non-field errors, so clients can branch on a stable code.
    if isinstance(response.data, dict) and "detail" in response.data and "code" not in response.data:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else None
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data["code"] = code
    return response
