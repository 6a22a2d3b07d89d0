"""One-time codes handing a finished redirect-flow login to the client (``callback_url?code=``).

The code travels through the browser; the tokens never do. The client trades it at
``POST /api/v1/auth/social/exchange`` (``exchange``) within ``HANDOFF_TTL_SECONDS``, once.
"""

from __future__ import annotations

import secrets

from django.core.cache import cache

_KEY = "social:handoff:{}"
HANDOFF_TTL_SECONDS = 120


class HandoffForAnotherDevice(Exception):
    pass


def handoff_issue(*, user_id: int, login_type: str, device_id: str | None) -> str:
    code = secrets.token_urlsafe(32)
    cache.set(
        _KEY.format(code),
        {"user_id": user_id, "login_type": login_type, "device_id": device_id},
        HANDOFF_TTL_SECONDS,
    )
    return code


def handoff_redeem(*, code: str, device_id: str | None = None) -> dict | None:
    """The handoff behind a one-time code, or None. Of two concurrent redemptions one wins.

    A code bound to a device and presented with another device id raises
    ``HandoffForAnotherDevice`` *without* being used up, so a mistaken request cannot burn it.
    """
    key = _KEY.format(code)
    entry = cache.get(key)
    if entry is None:
        return None
    if entry["device_id"] and device_id and device_id != entry["device_id"]:
        raise HandoffForAnotherDevice
    if not cache.delete(key):
        return None
    return entry
