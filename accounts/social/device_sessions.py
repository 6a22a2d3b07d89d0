"""From a finished social (or allauth password) login to a Device session, as password login gives."""

from __future__ import annotations

from django.http import HttpRequest

from core.http import client_ip

from .. import services
from ..api.serializers import DeviceBriefSerializer
from ..models import LoginType, User
from ..validators import clean_device_id
from .allauth_internals import get_authentication_records

DEVICE_ID_HEADER = "X-Device-ID"
DEVICE_NAME_HEADER = "X-Device-Name"


def device_id_from_request(request: HttpRequest) -> str | None:
    """The device id an app request names (header, or the form field of a browser form POST).

    None when absent; a malformed id raises ``ValidationError({"device_id": [...]})``.
    """
    return clean_device_id(request.headers.get(DEVICE_ID_HEADER) or request.POST.get("device_id"))


def device_name_from_request(request: HttpRequest) -> str:
    return request.headers.get(DEVICE_NAME_HEADER, "")


def login_type_from_session(request: HttpRequest) -> str:
    """The provider of the login allauth just recorded in this session ("local" for a password)."""
    for record in reversed(get_authentication_records(request, request.user)):
        if record.get("method") == "socialaccount":
            provider = record.get("provider")
            return provider if provider in LoginType.values else LoginType.LOCAL
        return LoginType.LOCAL
    return LoginType.LOCAL


def issue_session(
    request: HttpRequest, *, user: User, login_type: str, device_id: str | None, device_name: str = ""
) -> services.IssuedSession:
    return services.session_start(
        user=user,
        login_type=login_type,
        device_id=device_id,
        device_name=device_name,
        user_agent=request.headers.get("User-Agent", "")[:512],
        ip=client_ip(request),
    )


def session_payload(issued: services.IssuedSession) -> dict:
    return {**issued.tokens.as_response(), "device": DeviceBriefSerializer(issued.device).data}
