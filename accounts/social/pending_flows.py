"""Redirect flows started by the app client, waiting for the browser to come back from the provider.

allauth keeps a flow's OAuth state in the session of the request that started it (an app
request, with no cookie), while the browser coming back from the provider carries no session of
ours. Per state we remember which session that was, the device id the client named and where to
send the browser at the end; the provider callback takes it back out, once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.core.cache import cache

from .allauth_internals import STATE_TTL

_KEY = "social:flow:{}"
# What allauth is told the flow returns to (its redirect cannot take an app scheme such as
# myapp://): our own path, which the provider callback replaces with the flow's callback_url.
# The browser never sees it.
ALLAUTH_RETURN_PATH = "/accounts/social/return"
_MAX_STATE_LENGTH = 256


@dataclass(frozen=True)
class PendingFlow:
    session_key: str  # the app session holding allauth's state for this flow
    process: str  # "login" or "connect"
    device_id: str | None  # already validated when the flow started
    callback_url: str  # the client's, already allowed when the flow started


def remember(state_id: str, flow: PendingFlow) -> None:
    cache.set(_KEY.format(state_id), asdict(flow), STATE_TTL)


def take(state_id: str) -> PendingFlow | None:
    """The flow behind ``state_id``, or None; of two concurrent callbacks only one gets it."""
    if not 0 < len(state_id) <= _MAX_STATE_LENGTH:
        return None
    key = _KEY.format(state_id)
    entry = cache.get(key)
    if entry is None or not cache.delete(key):
        return None
    return PendingFlow(**entry)
