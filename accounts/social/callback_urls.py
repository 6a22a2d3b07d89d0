"""Where the redirect flow may send the browser back to.

A client names its ``callback_url`` when it starts the flow. It must be one of our own hosts
(allauth's rule) or start with an entry of ``SOCIAL_ALLOWED_CALLBACK_URLS``, which the operator
sets: an SPA origin (``https://app.example.com/``) or an app scheme (``myapp://auth``).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings


def is_listed_callback_url(url: object) -> bool:
    """Whether ``url`` starts with an entry of ``SOCIAL_ALLOWED_CALLBACK_URLS``."""
    return bool(url) and any(str(url).startswith(prefix) for prefix in settings.SOCIAL_ALLOWED_CALLBACK_URLS)


def with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))
