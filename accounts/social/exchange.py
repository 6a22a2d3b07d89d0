"""``POST /api/v1/auth/social/exchange``: a redirect flow's one-time code for a device session."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response

from ..api import schema
from ..api.serializers import SocialExchangeSerializer, UserSerializer
from ..api.throttles import LoginIPThrottle
from ..api.views import PublicAuthView
from ..models import User
from .device_sessions import issue_session, session_payload
from .handoff import HandoffForAnotherDevice, handoff_redeem


@schema.SOCIAL_EXCHANGE
class SocialExchangeView(PublicAuthView):
    """Trade the one-time ``code`` from a finished provider redirect for a device session."""

    throttle_classes = [LoginIPThrottle]

    def post(self, request):
        data = SocialExchangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        device_id = data.validated_data.get("device_id") or None
        try:
            entry = handoff_redeem(code=data.validated_data["code"], device_id=device_id)
        except HandoffForAnotherDevice:
            raise AuthenticationFailed(_("This sign-in code belongs to another device."), code="code_invalid") from None
        if entry is None:
            raise AuthenticationFailed(_("This sign-in code is invalid, expired or already used."), code="code_invalid")
        user = User.objects.filter(pk=entry["user_id"], is_active=True).first()
        if user is None:
            raise AuthenticationFailed(_("This account is deactivated."), code="user_inactive")
        issued = issue_session(
            request,
            user=user,
            login_type=entry["login_type"],
            device_id=entry["device_id"] or device_id,
            device_name=data.validated_data.get("device_name", ""),
        )
        return Response({**session_payload(issued), "user": UserSerializer(user).data})
