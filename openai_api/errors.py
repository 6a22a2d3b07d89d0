"""Errors in OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``, with its statuses:
what OpenAI's SDKs turn into ``AuthenticationError``, ``NotFoundError``, ``RateLimitError``..."""

from django.http import JsonResponse
from django.utils.translation import gettext as _


class OpenAIError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 (OpenAI's field name)
        code: str | None = None,
        param: str | None = None,
        retry_after: int | None = None,
        retry: bool | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type, code, param
        self.retry_after = retry_after
        # OpenAI's SDKs retry 429 and 5xx by themselves; ``x-should-retry: false`` says not to
        # (a retry would only fail again, and count against the plan again).
        self.retry = retry

    def body(self) -> dict:
        return {"message": self.message, "type": self.type, "param": self.param, "code": self.code}

    def response(self) -> JsonResponse:
        response = JsonResponse({"error": self.body()}, status=self.status)
        if self.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="api"'
        if self.retry_after is not None:
            response["Retry-After"] = str(self.retry_after)
        if self.retry is not None:
            response["x-should-retry"] = "true" if self.retry else "false"
        return response


# Seconds a client refused for the plan's concurrent replies is told to wait (``Retry-After``)
# before it tries again (the request itself has already waited ``CHAT_API_SLOT_WAIT_SECONDS``).
SLOT_RETRY_AFTER_SECONDS = 1


class SlotBusy(OpenAIError):
    """Every reply the plan allows at once is running: 429 ``rate_limit_exceeded`` with
    ``Retry-After``, which OpenAI's SDKs retry by themselves (``x-should-retry: true``), as they
    do OpenAI's own rate limits. ``openai_api.slots`` waits for a slot before answering this."""

    def __init__(self, message: str):
        super().__init__(
            429,
            message,
            type="requests",
            code="rate_limit_exceeded",
            retry_after=SLOT_RETRY_AFTER_SECONDS,
            retry=True,
        )


def invalid_key() -> OpenAIError:
    return OpenAIError(
        401,
        _("Incorrect API key provided. Make a key at /api/v1/api-keys and send it as 'Authorization: Bearer sk-...'."),
        code="invalid_api_key",
    )


def model_not_found(model: str) -> OpenAIError:
    return OpenAIError(
        404,
        _("The model '%(model)s' does not exist or you do not have access to it.") % {"model": model},
        code="model_not_found",
        param="model",
    )


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> OpenAIError:
    return OpenAIError(400, message, param=param, code=code)


# Upstream failures a retry may cure (the provider's retryable ones); others are final.
_TRANSIENT = {
    "upstream_unreachable",
    "upstream_timeout",
    "upstream_rate_limited",
    "upstream_error",  # the server answered 5xx
    "upstream_unavailable",
    "upstream_incomplete",
    "interrupted",
}


def reply_failed(message: str, *, code: str | None) -> OpenAIError:
    """The reply did not complete: 503 if trying again may work, 502 (not to be retried) if not."""
    code = code or "upstream_unavailable"
    if code == "upstream_bad_request":  # the upstream refused a parameter as given: the client's to fix
        return OpenAIError(400, message, code=code)
    if code == "context_length_exceeded":  # the upstream's own window check, after ours passed
        return OpenAIError(400, message, code=code, param="messages")
    if code in _TRANSIENT:
        return OpenAIError(503, message, type="server_error", code=code)
    return OpenAIError(502, message, type="server_error", code=code, retry=False)


def from_refusal(exc, *, model: str) -> OpenAIError:
    """The request refused by a rule of the service (a domain error), in OpenAI's terms."""
    if exc.code == "model_not_in_plan":  # as OpenAI: a model you cannot use does not exist for you
        return model_not_found(model)
    if exc.code == "too_many_generations":  # the plan's concurrent replies: one ends soon, retry
        return SlotBusy(exc.detail)
    if exc.status_code == 429:  # the day's quota: retrying before it resets would fail again
        wait = getattr(exc, "wait", None) or 1
        return OpenAIError(429, exc.detail, type="insufficient_quota", code=exc.code, retry_after=wait, retry=False)
    if exc.status_code == 503:  # a part of ours is down for a moment: SDKs retry a 503 by themselves
        return OpenAIError(503, exc.detail, type="server_error", code=exc.code, retry_after=getattr(exc, "wait", 5))
    param = getattr(exc, "param", None) or (
        "messages" if exc.code in ("context_length_exceeded", "model_cannot_read_images") else None
    )
    return OpenAIError(exc.status_code, exc.detail, code=exc.code, param=param)


def first_field_error(detail, path: str = "") -> tuple[str, str]:
    """(param, message) of the first field error of a DRF error, as OpenAI names params
    (``messages[0].content``)."""
    if isinstance(detail, dict):
        name, value = next(iter(detail.items()))
        if isinstance(name, int):  # DRF's ListField keys its children's errors by index
            param = f"{path}[{name}]"
        elif name == "non_field_errors":
            param = path
        else:
            param = f"{path}.{name}" if path else name
        return first_field_error(value, param)
    if isinstance(detail, list) and detail:
        if all(isinstance(item, str) for item in detail):
            return path, detail[0]  # a str (DRF's ErrorDetail keeps its code)
        for index, item in enumerate(detail):
            if item:
                return first_field_error(item, f"{path}[{index}]")
    return path, str(detail)
