"""Errors in OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``, with its statuses:
what OpenAI's SDKs turn into ``AuthenticationError``, ``NotFoundError``, ``RateLimitError``..."""

from django.http import JsonResponse


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
    ):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type, code, param
        self.retry_after = retry_after

    def response(self) -> JsonResponse:
        body = {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}
        response = JsonResponse(body, status=self.status)
        if self.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="api"'
        if self.retry_after is not None:
            response["Retry-After"] = str(self.retry_after)
        return response


def invalid_key() -> OpenAIError:
    return OpenAIError(
        401,
        "Incorrect API key provided. Make a key at /api/v1/api-keys and send it as 'Authorization: Bearer sk-...'.",
        code="invalid_api_key",
    )


def model_not_found(model: str) -> OpenAIError:
    return OpenAIError(
        404,
        f"The model '{model}' does not exist or you do not have access to it.",
        code="model_not_found",
        param="model",
    )


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> OpenAIError:
    return OpenAIError(400, message, param=param, code=code)


def upstream_unavailable(message: str, *, code: str | None = None) -> OpenAIError:
    return OpenAIError(503, message, type="server_error", code=code or "upstream_unavailable")
