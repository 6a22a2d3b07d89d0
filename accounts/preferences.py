"""A signed-in user's language and time zone, applied to the request being answered.

The one rule: the user's saved ``language`` when set, else the browser's (``Accept-Language``, read
by Django's LocaleMiddleware), else ``LANGUAGE_CODE``; the saved ``time_zone`` when set, else UTC.
Session requests (the admin) get it from ``UserPreferencesMiddleware``; token requests (the API)
from their authentication class, the moment the user is known, so every message of the answer
(errors included) is in the user's language.
"""

import functools
import zoneinfo

from django.conf import settings
from django.utils import timezone, translation

SUPPORTED_LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)


def supported_language(tag: str | None) -> str | None:
    """``ko-KR`` -> ``ko``; ``None`` for a language the service does not speak (or no tag)."""
    if not tag:
        return None
    try:
        return translation.get_supported_language_variant(tag.replace("_", "-").lower())
    except LookupError:
        return None


@functools.cache
def available_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def valid_time_zone(name: str) -> bool:
    if not name or name != name.strip() or len(name) > 64:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def user_zone(user) -> zoneinfo.ZoneInfo:
    """The user's time zone (UTC when none is saved): where their day starts and ends."""
    return saved_zone(getattr(_settings_of(user), "time_zone", "") or "")


def saved_zone(name: str) -> zoneinfo.ZoneInfo:
    """A saved ``time_zone`` as a zone: UTC for "" (none saved) or a name no longer known."""
    if name and valid_time_zone(name):
        return zoneinfo.ZoneInfo(name)
    return zoneinfo.ZoneInfo("UTC")


def saved_language(user) -> str | None:
    """The language ``user`` chose, if the service speaks it; ``None`` when they follow the browser."""
    return supported_language(getattr(_settings_of(user), "language", ""))


def mail_language(user, *, fallback: str | None = None) -> str:
    """The language of a mail to ``user``: their saved one, else ``fallback`` (the language of the
    request that caused it; by default the active one), else ``LANGUAGE_CODE``."""
    return saved_language(user) or supported_language(fallback or translation.get_language()) or settings.LANGUAGE_CODE


def activate_for(user) -> None:
    """Answer this request in the user's saved language and time zone (where they saved one)."""
    row = _settings_of(user)
    if row is None:
        return
    language = saved_language(user)
    if language:
        translation.activate(language)
    if row.time_zone:
        timezone.activate(saved_zone(row.time_zone))


def _settings_of(user):
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.settings
    except Exception:  # noqa: BLE001  (a user created outside user_create has no settings row yet)
        return None


class UserPreferencesMiddleware:
    """After AuthenticationMiddleware: a session user's (the admin's) saved language and zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        activate_for(getattr(request, "user", None))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
