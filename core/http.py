"""What a request says about itself, in one place: the client's address and whether it is an API
request (JSON errors) or a page (HTML errors)."""

_API_PREFIXES = ("/api/", "/_allauth/", "/v1/")


def client_ip(request) -> str | None:
    """The client's address, aware of ``DJANGO_NUM_PROXIES``: the same address the throttles key
    on, and the one sign-in limits, device sessions and the audit trail record."""
    from .throttles import IPRateThrottle  # DRF's throttle machinery reads settings at import

    return IPRateThrottle().get_ident(request) or None


def is_api_request(request) -> bool:
    """Under ``/api/``, allauth's headless ``/_allauth/`` or the OpenAI-compatible ``/v1/``: a client
    reads JSON there, never an HTML page."""
    return request.path.startswith(_API_PREFIXES)
