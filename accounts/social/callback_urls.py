"""Where the redirect flow may send the browser back to, and the redirect that goes there.

A client names its ``callback_url`` when it starts the flow. It must be one of our own hosts
(allauth's rule) or match an entry of ``SOCIAL_ALLOWED_CALLBACK_URLS``, which the operator sets:
an SPA origin (``https://app.example.com/``) or an app scheme (``myapp://auth``,
``com.example.app:/oauth2redirect``). Nothing else is ever a redirect target.
"""

from __future__ import annotations

from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpResponseRedirect

# Schemes that run or read something in the browser itself: never a callback, even if listed.
_NEVER_SCHEMES = frozenset({"javascript", "vbscript", "data", "file", "blob", "about"})


def _split(url: object) -> SplitResult | None:
    if not isinstance(url, str) or not url or not url.isprintable() or " " in url or "\\" in url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    if not parts.scheme or parts.scheme.lower() in _NEVER_SCHEMES:
        return None
    return parts


def _within(url: SplitResult, entry: SplitResult) -> bool:
    if (url.scheme.lower(), url.netloc.lower()) != (entry.scheme.lower(), entry.netloc.lower()):
        return False
    if not entry.path or url.path == entry.path:
        return True
    prefix = entry.path if entry.path.endswith("/") else entry.path + "/"
    return url.path.startswith(prefix)


def is_listed_callback_url(url: object) -> bool:
    """Whether ``url`` is within an entry of ``SOCIAL_ALLOWED_CALLBACK_URLS``.

    Same scheme and host (port included) as the entry, exactly; its path equal to the entry's or
    below it at a ``/``. So ``myapp://auth`` allows ``myapp://auth`` and ``myapp://auth/done`` but
    not ``myapp://authority`` nor ``myapp://auth@evil.example``.
    """
    parts = _split(url)
    if parts is None:
        return False
    entries = (_split(entry) for entry in settings.SOCIAL_ALLOWED_CALLBACK_URLS)
    return any(entry is not None and _within(parts, entry) for entry in entries)


def listed_schemes() -> set[str]:
    entries = (_split(entry) for entry in settings.SOCIAL_ALLOWED_CALLBACK_URLS)
    return {entry.scheme.lower() for entry in entries if entry is not None}


def with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


class CallbackRedirect(HttpResponseRedirect):
    """A redirect to a client's ``callback_url``, which may use an app scheme the operator listed.

    Django's redirects refuse every scheme but http, https and ftp (``DisallowedRedirect``, a 400);
    this one also takes the schemes of ``SOCIAL_ALLOWED_CALLBACK_URLS``, and only those.
    """

    def __init__(self, redirect_to: str, *args, **kwargs) -> None:
        self.allowed_schemes = ["http", "https", *sorted(listed_schemes())]
        super().__init__(redirect_to, *args, **kwargs)
