"""Any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp server, LM Studio...), the
embedded model's own server included.

The official SDK makes the request (auth, base URL, timeouts, status errors as typed exceptions);
the streamed body is read as raw SSE lines and parsed with the json module: the SDK's typed chunk
objects and request transform cost more than everything else the server does with a reply (see
docs/benchmarks.md).
"""

import asyncio
import json
import logging
import random
import weakref
from collections.abc import AsyncIterator

import aiohttp
import httpx2 as httpx  # the HTTP library of this openai SDK version
import openai
from django.conf import settings
from django.utils.translation import gettext as _

from .base import Delta, ProviderError, Usage
from .context import estimate_tokens
from .keys import api_key_from_env
from .tokens import TokenCounting

logger = logging.getLogger(__name__)

# Attempts before the first token only: once text has reached the user, a retry would repeat it.
MAX_ATTEMPTS = 3
BACKOFF_BASE_SECONDS = 0.25


# The SDK's public ``client.post`` sends the body as given (``chat.completions.create`` walks every
# message through its typed transform first: most of the server's CPU for long histories), and this
# header, which the SDK's own ``with_streaming_response`` sets, hands back the unread response.
_STREAMED_RAW = {"headers": {"X-Stainless-Raw-Response": "stream"}}


def _is_retryable(exc: Exception) -> bool:
    if isinstance(exc, openai.APITimeoutError | openai.APIConnectionError | openai.RateLimitError):
        return True
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


def _refused(exc: BaseException) -> bool:
    """A refused connection, which the SDK's aiohttp transport reports as a connect *timeout*."""
    while exc is not None:
        if isinstance(exc, aiohttp.ClientConnectorError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _upstream_message(exc: openai.APIStatusError) -> str:
    """What an upstream said of a request it refused, short (it is shown to the user)."""
    body = exc.body if isinstance(exc.body, dict) else {}
    message = body.get("message") or body.get("detail") or exc.message
    return str(message)[:500]


# How OpenAI, vLLM, llama.cpp's server, Ollama and LM Studio say a prompt is over the window.
_CONTEXT_WORDS = ("context_length_exceeded", "maximum context length", "context size", "context window", "n_ctx")


def _context_exceeded(exc: openai.APIStatusError) -> bool:
    body = exc.body if isinstance(exc.body, dict) else {}
    said = f"{body.get('code') or ''} {body.get('type') or ''} {_upstream_message(exc)}".lower()
    return any(words in said for words in _CONTEXT_WORDS)


def _as_provider_error(exc: Exception) -> ProviderError:
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, openai.APITimeoutError) and not _refused(exc):
        return ProviderError(_("The model server did not answer in time."), code="upstream_timeout", retryable=True)
    if isinstance(exc, openai.APIConnectionError):  # a refused connection included
        return ProviderError(_("Could not reach the model server."), code="upstream_unreachable", retryable=True)
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return ProviderError(_("The model server refused our credentials."), code="upstream_auth")
    if isinstance(exc, openai.NotFoundError):
        return ProviderError(_("The model server does not know this model."), code="upstream_not_found")
    if isinstance(exc, openai.RateLimitError):
        return ProviderError(_("The model server is rate limiting us."), code="upstream_rate_limited", retryable=True)
    if isinstance(exc, openai.BadRequestError | openai.UnprocessableEntityError) and _context_exceeded(exc):
        # Our count (an estimate for this upstream) let through what its tokenizer does not: said
        # as our own check says it, so a client handles both alike.
        return ProviderError(
            _("The model's server says the messages do not fit its context window: %(message)s")
            % {"message": _upstream_message(exc)},
            code="context_length_exceeded",
        )
    if isinstance(exc, openai.BadRequestError | openai.UnprocessableEntityError):
        return ProviderError(
            _("The model server refused the request: %(message)s") % {"message": _upstream_message(exc)},
            code="upstream_bad_request",
        )
    if isinstance(exc, openai.APIStatusError):
        return ProviderError(
            _("The model server failed (HTTP %(status)s).") % {"status": exc.status_code},
            code="upstream_error",
            retryable=exc.status_code >= 500,
        )
    if isinstance(exc, openai.APIError):
        return ProviderError(
            _("The model server sent something unexpected: %(message)s") % {"message": exc.message},
            code="upstream_bad_response",
        )
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError(_("The model server did not answer in time."), code="upstream_timeout", retryable=True)
    if isinstance(exc, httpx.TransportError):
        return ProviderError(
            _("The connection to the model server broke."), code="upstream_unreachable", retryable=True
        )
    if isinstance(exc, ValueError):
        return ProviderError(_("The model server sent a malformed chunk."), code="upstream_bad_response")
    return ProviderError(
        _("The model server failed: %(error)s.") % {"error": exc.__class__.__name__}, code="upstream_error"
    )


# Building an AsyncOpenAI client costs tens of milliseconds of CPU (an SSL context, a connection
# pool): keep one per event loop and upstream, which also reuses its connections across replies.
# Keyed weakly by loop because an httpx pool cannot outlive or cross the loop it was made on.
_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, openai.AsyncOpenAI]]" = (
    weakref.WeakKeyDictionary()
)


def client_for(*, base_url: str | None, api_key: str, timeout: float) -> openai.AsyncOpenAI:
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    key = (base_url, api_key, timeout)
    client = per_loop.get(key)
    if client is None:
        # The SDK's aiohttp transport: reading a streamed body costs a third of its default
        # (httpx on anyio sets up a cancel scope per socket read), at every token of every reply.
        client = per_loop[key] = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(timeout=timeout),
        )
    return client


def _without_names(messages: list[dict]) -> list[dict]:
    """llama-cpp-python's server types messages without ``name`` (its templates do not write it)."""
    if not any("name" in message for message in messages):
        return messages
    return [{k: v for k, v in message.items() if k != "name"} for message in messages]


def _with_null_contents(messages: list[dict]) -> list[dict]:
    """An assistant turn that only calls tools has ``content: null``, as OpenAI writes it (some
    upstreams refuse an empty string beside tool calls)."""
    if not any("tool_calls" in message for message in messages):
        return messages
    return [
        {**message, "content": None} if message.get("tool_calls") and not message.get("content") else message
        for message in messages
    ]


class ToolCalls:
    """The tool calls of a streamed reply, put together from OpenAI's deltas: each call's first
    delta has its ``index``, ``id`` and name, later ones more of its ``arguments``."""

    def __init__(self):
        self.calls: dict[int, dict] = {}

    def add(self, deltas) -> None:
        for position, delta in enumerate(deltas if isinstance(deltas, list) else ()):
            if not isinstance(delta, dict):
                raise ValueError("a tool call delta is not an object")
            index = delta.get("index", position)
            call = self.calls.setdefault(
                index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
            )
            if delta.get("id"):
                call["id"] = delta["id"]
            function = delta.get("function") or {}
            if function.get("name"):
                call["function"]["name"] += function["name"]
            if function.get("arguments"):
                call["function"]["arguments"] += function["arguments"]

    def whole(self) -> list[dict]:
        calls = [self.calls[index] for index in sorted(self.calls)]
        for number, call in enumerate(calls):
            call["id"] = call["id"] or f"call_{number}"  # servers that leave it out (some llama.cpp builds)
        return calls


class OpenAIProvider(TokenCounting):
    def __init__(self, model):
        self.model_name = model.upstream_model
        # The embedded model is one more OpenAI-compatible server, at a URL the deployment sets.
        self.local = local = model.provider == "local"
        self.base_url = model.base_url or (settings.CHAT["LOCAL_MODEL_URL"] if local else None)
        self.api_key_env = model.api_key_env
        self._api_key: str | None = None
        self.timeout = model.request_timeout_seconds

    @property
    def api_key(self) -> str:
        """The key, read when a request is made (not when the provider is made: counting a prompt
        needs none). Only a variable the operator allows, checked again here (llm/keys.py): a row
        written before the rule must not send the server's own secrets to a URL staff chose; its
        request fails with ``api_key_env_refused``. Local servers (Ollama, vLLM, llama.cpp) ignore
        the key but the SDK wants one."""
        if self._api_key is None:
            self._api_key = api_key_from_env(self.api_key_env) or "not-needed"
        return self._api_key

    @property
    def client(self) -> openai.AsyncOpenAI:
        """The client of the running event loop (only usable inside the provider's coroutines)."""
        return client_for(base_url=self.base_url, api_key=self.api_key, timeout=self.timeout)

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def request_extra(self, extra: dict) -> dict:
        """The request's other parameters (``top_p``, ``response_format``, ``tools``...) in the form
        this upstream takes. llama-cpp-python's server (the embedded model's) takes a JSON schema as
        ``{"type": "json_object", "schema": ...}`` and makes a grammar of it; its logprobs come only
        with a ``top_logprobs`` count."""
        if not self.local:
            return extra
        extra = dict(extra)
        response_format = extra.get("response_format")
        if response_format and response_format["type"] == "json_schema":
            extra["response_format"] = {"type": "json_object", "schema": response_format["json_schema"]["schema"]}
        if extra.get("logprobs") and extra.get("top_logprobs") is None:
            extra["top_logprobs"] = 0
        return extra

    async def stream(
        self,
        messages: list[dict],
        *,
        max_tokens: int,
        temperature: float,
        stop: list[str] | None = None,
        extra: dict | None = None,
    ) -> AsyncIterator[Delta]:
        usage = None
        # Counted here when the upstream does not say (llama-cpp-python's server never does).
        counting = self.usage_count(messages)
        await counting.begin(timeout=self.timeout)
        completion: list[str] = []
        completion_chars = 0
        completion_chunks = 0
        finish_reason = ""
        calls = ToolCalls()
        body = {
            "model": self.model_name,
            "messages": _with_null_contents(_without_names(messages) if self.local else messages),
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if stop:
            body["stop"] = stop
        if extra:
            body.update(self.request_extra(extra))
        for attempt in range(MAX_ATTEMPTS):
            try:
                response = await self.client.post(
                    "/chat/completions", cast_to=httpx.Response, body=body, options=_STREAMED_RAW
                )
                try:
                    async for line in response.aiter_lines():
                        if not line.startswith("data:"):
                            continue  # blank separators, comments, event names
                        payload = line[5:].strip()
                        if payload == "[DONE]":
                            break
                        chunk = json.loads(payload)
                        if not isinstance(chunk, dict):
                            raise ValueError("chunk is not an object")
                        if chunk.get("error"):
                            raise ProviderError(_("The model server failed in the middle of the reply."))
                        if chunk.get("usage"):
                            counts = chunk["usage"]
                            usage = Usage(counts.get("prompt_tokens") or 0, counts.get("completion_tokens") or 0)
                        for choice in chunk.get("choices") or ():
                            finish_reason = finish_reason or str(choice.get("finish_reason") or "")
                            delta = choice.get("delta") or {}
                            text = delta.get("content")
                            if delta.get("tool_calls"):
                                calls.add(delta["tool_calls"])
                                completion_chunks += 1
                                completion_chars += 1  # a call has begun: a retry would repeat it
                            logprobs = (choice.get("logprobs") or {}).get("content") if choice.get("logprobs") else None
                            if text or logprobs:
                                if text:
                                    completion.append(text)
                                completion_chars += len(text or "")
                                completion_chunks += 1
                                yield Delta(text=text or "", logprobs=logprobs or None)
                finally:
                    await response.aclose()
                if not finish_reason:
                    # The body ended cleanly but the reply did not: the server went away mid-answer.
                    raise ProviderError(
                        _("The model server stopped in the middle of the reply."), code="upstream_incomplete"
                    )
                break
            except Exception as exc:
                # Retry only while nothing reached the user: after that a retry would repeat text.
                if completion_chars or not _is_retryable(exc) or attempt == MAX_ATTEMPTS - 1:
                    raise _as_provider_error(exc) from exc
                delay = BACKOFF_BASE_SECONDS * (2**attempt) * (1 + random.random())  # noqa: S311
                logger.info("upstream %s failed (%s); retrying in %.2fs", self.model_name, exc, delay)
                await asyncio.sleep(delay)
        if usage is None:
            # Servers that ignore stream_options (llama-cpp-python's among them): the model's
            # tokenizer where there is one, else the estimate and the chunks (about a token each).
            usage = Usage(*await counting.usage("".join(completion), chunks=completion_chunks))
        yield Delta(usage=usage, finish_reason=finish_reason, tool_calls=calls.whole())

    async def check(self) -> None:
        try:
            names = [m.id async for m in self.client.models.list()]
        except Exception as exc:
            raise _as_provider_error(exc) from exc
        if names and self.model_name not in names:
            shown = ", ".join(names[:10])
            raise ProviderError(
                _("The server answers but does not list %(model)s (it has: %(names)s).")
                % {"model": repr(self.model_name), "names": shown},
                code="upstream_not_found",
            )
