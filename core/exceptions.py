"""One error shape for the API: services raise plain Django exceptions or domain errors (below), clients see
{detail, code} (or field messages for invalid input), mapped here and nowhere else."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler


class DomainError(Exception):
    """A rule of the service refused the request: services raise these (never DRF's classes),
    ``api_exception_handler`` answers ``{detail, code}`` with the class's status.

    400 is for input the schema itself rules out; a well-formed request the service refuses gets a
    status that says why: 403 (not allowed to you), 404 (something it names does not exist), 409
    (not in the current state of things).
    """

    status_code = 400
    code = "invalid"

    def __init__(self, detail: str, *, code: str | None = None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code


class NotPermitted(DomainError):
    status_code = 403
    code = "permission_denied"


class ReferenceNotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class ServiceUnavailable(DomainError):
    """A part the request needs (Redis, the database) does not answer: try again shortly."""

    status_code = 503
    code = "service_unavailable"

    def __init__(self, detail: str | None = None, *, wait=5):
        super().__init__(detail or _("The service is briefly unavailable; try again in a few seconds."))
        self.wait = wait  # sent as Retry-After


class _Refused(exceptions.APIException):
    """A domain error as DRF's handler answers it: ``wait`` (seconds) becomes ``Retry-After``."""

    def __init__(self, error: DomainError):
        super().__init__(detail=error.detail, code=error.code)
        self.status_code = error.status_code
        self.wait = getattr(error, "wait", None)


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        exc = _Refused(exc)
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
