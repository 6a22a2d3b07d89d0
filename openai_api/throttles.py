"""Requests per API key (``THROTTLE_API_KEY``), on the same fallback cache as every throttle:
a runaway script is slowed before it reaches the plan's limits or the model's server."""

import math

from django.utils.translation import gettext as _

from core.throttles import SettingsRateThrottle

from . import errors


class ApiKeyRateThrottle(SettingsRateThrottle):
    scope = "api_key"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


def check_rate(request, key) -> None:
    """Raise OpenAI's 429 (``rate_limit_exceeded``, with Retry-After) when the key is over its rate."""
    request.auth = key
    throttle = ApiKeyRateThrottle()
    if not throttle.allow_request(request, None):
        wait = max(1, math.ceil(throttle.wait() or 1))
        raise errors.OpenAIError(
            429,
            _("Rate limit reached for this API key; retry in %(seconds)d s.") % {"seconds": wait},
            type="requests",
            code="rate_limit_exceeded",
            retry_after=wait,
        )
