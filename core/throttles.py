"""Throttles whose rates are read from settings at request time (tests can override them), and
whose counters survive the shared cache (Redis) being unreachable."""

import logging
import time

from django.conf import settings
from django.core.cache import cache as shared_cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle
from rest_framework.throttling import UserRateThrottle as DRFUserRateThrottle

logger = logging.getLogger(__name__)
FALLBACK_WARNING_EVERY_SECONDS = 60.0


class FallbackCache(BaseCache):
    """The shared cache, or this process's own memory while the shared one fails.

    Counting per process is weaker than counting across processes, but a throttle that answers
    500 because Redis is down turns every request that does not need Redis into an error.
    """

    def __init__(self):
        super().__init__({})
        self.local = LocMemCache("throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})
        self._warned_at = 0.0

    def _failed(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= FALLBACK_WARNING_EVERY_SECONDS:
            self._warned_at = now
            logger.warning("throttles fall back to this process's memory: the shared cache failed (%s)", exc)

    def get(self, key, default=None, version=None):
        try:
            return shared_cache.get(key, default, version)
        except Exception as exc:
            self._failed(exc)
            return self.local.get(key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            shared_cache.set(key, value, timeout, version)
        except Exception as exc:
            self._failed(exc)
            self.local.set(key, value, timeout, version)


throttle_cache = FallbackCache()


class SettingsRateThrottle(SimpleRateThrottle):
    cache = throttle_cache

    def get_rate(self):
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].get(self.scope)

    def __init__(self):
        # SimpleRateThrottle reads class-level rates at import; resolve ours now instead.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)


class AnonThrottle(SettingsRateThrottle, AnonRateThrottle):
    """DRF's anonymous throttle (the default for every view), on the fallback cache."""

    scope = "anon"


class UserThrottle(SettingsRateThrottle, DRFUserRateThrottle):
    """DRF's per-user throttle (the default for every view), on the fallback cache."""

    scope = "user"


class IPRateThrottle(SettingsRateThrottle):
    """Per client IP, for anonymous endpoints such as login and registration."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserRateThrottle(SettingsRateThrottle):
    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
