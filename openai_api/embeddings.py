"""``POST /v1/embeddings``: OpenAI's Embeddings protocol over the one embedding model of the service.

Which model: the one configured for knowledge (``knowledge.EmbeddingSettings``, edited in the
admin) when it is on; otherwise the embedded default, SmolLM2 served by llama-cpp-python with
``--embedding`` as a process of its own (``conversations.llm.model_server --embedding``, at
``CHAT["LOCAL_EMBEDDING_URL"]``; an empty URL turns the default off). Its id in ``/v1/models`` is
the configured row's ``model``, or ``EMBEDDED_ID`` for the default.

What is taken: ``input`` (a string or a list of 1 to ``MAX_INPUTS`` non-empty strings; token ids are
refused: this server cannot know which tokenizer made them), ``encoding_format`` (``float`` or
``base64``, little-endian float32 as OpenAI's SDKs decode it), ``dimensions`` (forwarded to a
configured model, which must then answer vectors of that size; refused by the embedded one,
whose size is fixed), ``user`` (an end-user id for the caller's own bookkeeping; not used). Any
other field is refused with its name as ``param``. An input longer than the model's window is the
upstream's 400, never cut.

A request costs one call of the key's rate (``THROTTLE_API_KEY``), not a message of the plan's
daily quota: it starts no reply.
"""

import base64
import math
import os
import struct
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from conversations.llm.model_server import EMBEDDING_ALIAS, EMBEDDING_CONTEXT
from conversations.llm.tokens import Tokenizer
from core.api_key_env import api_key_env_problem
from core.tokens import estimate_tokens
from knowledge.embeddings import active_settings

from . import errors

EMBEDDED_ID = "smollm2-135m-embedding"
EMBEDDED_DIMENSIONS = 576  # SmolLM2-135M's hidden size
EMBEDDED_TIMEOUT_SECONDS = 120.0
# OpenAI's own bound on inputs in one request.
MAX_INPUTS = 2048
# Tokens one request may carry in all (OpenAI's limit), by the conservative estimate: a request
# is bounded work for the embedding server, whatever its count of inputs.
MAX_REQUEST_TOKENS = 300_000
_FIELDS = {"model", "input", "encoding_format", "dimensions", "user"}
# A fixed "created" for the embedded default (the release of SmolLM2), so the list is stable.
_EMBEDDED_CREATED = 1730419200


@dataclass(frozen=True)
class EmbeddingModel:
    id: str  # the name clients send
    base_url: str  # an OpenAI-compatible root (``.../v1``)
    upstream_model: str
    created: int
    timeout: float
    api_key_env: str = ""
    embedded: bool = False


def embedding_model() -> EmbeddingModel | None:
    """The service's embedding model (knowledge's when configured, else the embedded default, else
    none). Reads the settings row at most every 10 s (``knowledge.embeddings.active_settings``)."""
    config = active_settings()
    if config is not None:
        return EmbeddingModel(
            id=config.model,
            base_url=config.base_url,
            upstream_model=config.model,
            created=int(config.updated_at.timestamp()),
            timeout=config.timeout_seconds,
            api_key_env=config.api_key_env,
        )
    url = settings.CHAT.get("LOCAL_EMBEDDING_URL") or ""
    if not url:
        return None
    return EmbeddingModel(
        id=EMBEDDED_ID,
        base_url=url,
        upstream_model=EMBEDDING_ALIAS,
        created=_EMBEDDED_CREATED,
        timeout=EMBEDDED_TIMEOUT_SECONDS,
        embedded=True,
    )


def model_object(model: EmbeddingModel) -> dict:
    """The model as ``/v1/models`` lists it."""
    return {
        "id": model.id,
        "object": "model",
        "created": model.created,
        "owned_by": "system",
        "capabilities": ["embeddings"],
    }


@dataclass(frozen=True)
class EmbeddingRequest:
    model: str
    inputs: list[str]
    encoding_format: str
    dimensions: int | None


def request_parse(body: dict) -> EmbeddingRequest:
    """The request's fields, checked; an OpenAIError (400 naming the field) otherwise."""
    for name in body:
        if name not in _FIELDS:
            raise errors.invalid(
                _("'%(name)s' is not a parameter of embeddings.") % {"name": name}, param=name, code="unknown_parameter"
            )
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise errors.invalid(_("Name the embedding model ('model')."), param="model")
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        raise errors.invalid(_("'user' must be a string."), param="user")
    encoding_format = body.get("encoding_format") or "float"
    if encoding_format not in ("float", "base64"):
        raise errors.invalid(_("'encoding_format' must be 'float' or 'base64'."), param="encoding_format")
    dimensions = body.get("dimensions")
    if dimensions is not None and (isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1):
        raise errors.invalid(_("'dimensions' must be a positive integer."), param="dimensions")
    return EmbeddingRequest(model, _inputs(body.get("input")), encoding_format, dimensions)


def _inputs(value) -> list[str]:
    if isinstance(value, str):
        value = [value]
    elif not isinstance(value, list) or not value:
        raise errors.invalid(_("'input' must be a string or a non-empty list of strings."), param="input")
    if len(value) > MAX_INPUTS:
        raise errors.invalid(_("'input' may hold at most %(count)d strings.") % {"count": MAX_INPUTS}, param="input")
    if sum(estimate_tokens(item) for item in value if isinstance(item, str)) > MAX_REQUEST_TOKENS:
        raise errors.invalid(
            _("'input' holds more than %(count)d tokens in all: send it in several requests.")
            % {"count": MAX_REQUEST_TOKENS},
            param="input",
        )
    for index, item in enumerate(value):
        if isinstance(item, int | list):
            raise errors.invalid(
                _(
                    "Token ids are not supported: send 'input' as text (LangChain's OpenAIEmbeddings: "
                    "check_embedding_ctx_length=False)."
                ),
                param="input",
                code="token_ids_not_supported",
            )
        if not isinstance(item, str):
            raise errors.invalid(_("'input' must be a string or a non-empty list of strings."), param="input")
        if not item:
            raise errors.invalid(_("'input[%(index)d]' is empty.") % {"index": index}, param="input")
    return value


def request_check(request: EmbeddingRequest, model: EmbeddingModel) -> None:
    """What the model cannot take, refused before it is called."""
    if model.embedded and request.dimensions is not None and request.dimensions != EMBEDDED_DIMENSIONS:
        raise errors.invalid(
            _("This model does not support specifying dimensions (its vectors have %(size)d).")
            % {"size": EMBEDDED_DIMENSIONS},
            param="dimensions",
        )


async def _token_count(model: EmbeddingModel, text: str) -> int:
    """Tokens of ``text`` as the embedded model's server counts them (its tokenizer, the one the
    chat model's counts use: ``llm.tokens.Tokenizer``, which reads special tokens as such: each
    ``<|`` adds a margin for when embedding does not)."""
    count = await Tokenizer(base_url=model.base_url, model=model.upstream_model).acount(text, timeout=model.timeout)
    if count is None:
        raise ValueError("the tokenizer did not answer")
    return count + 1 + 8 * text.count("<|")  # +1: a BOS, were the model to add one


async def lengths_check(request: EmbeddingRequest, model: EmbeddingModel) -> None:
    """Each input fits the embedded model's window, or a 400 ``context_length_exceeded`` naming the
    first that does not: its server would cut it without a word. A token is at least one byte,
    so only inputs longer in bytes than the window are counted (by its own tokenizer)."""
    if not model.embedded:
        return
    limit = EMBEDDING_CONTEXT
    long = [(i, text) for i, text in enumerate(request.inputs) if len(text.encode("utf-8")) + 2 > limit]
    if not long:
        return
    try:
        for index, text in long:
            count = await _token_count(model, text)
            if count > limit:
                raise errors.invalid(
                    _(
                        "This model's maximum context length is %(limit)d tokens, however input[%(index)d] "
                        "has %(count)d tokens. Please reduce the length of the input."
                    )
                    % {"limit": limit, "index": index, "count": count},
                    param="input",
                    code="context_length_exceeded",
                )
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        raise _unreachable() from None


def _unreachable() -> errors.OpenAIError:
    return errors.reply_failed(_("The embedding model's server cannot be reached."), code="upstream_unreachable")


def _headers(model: EmbeddingModel) -> dict:
    if not model.api_key_env:
        return {}
    if api_key_env_problem(model.api_key_env) is not None:  # as a chat model's (llm/keys.py): nothing is read
        raise errors.reply_failed(
            _("The embedding model's API key variable is not allowed on this server: an operator must correct it."),
            code="api_key_env_refused",
        )
    key = os.environ.get(model.api_key_env)
    return {"Authorization": f"Bearer {key}"} if key else {}


async def embeddings_create(request: EmbeddingRequest, model: EmbeddingModel) -> dict:
    """The vectors from the upstream's ``POST /embeddings``, in OpenAI's response shape."""
    payload: dict = {"model": model.upstream_model, "input": request.inputs}
    if request.dimensions is not None and not model.embedded:
        payload["dimensions"] = request.dimensions
    url = model.base_url.rstrip("/") + "/embeddings"
    try:
        async with httpx.AsyncClient(timeout=model.timeout, follow_redirects=False) as client:
            response = await client.post(url, json=payload, headers=_headers(model))
    except httpx.TimeoutException:
        raise errors.reply_failed(
            _("The embedding model did not answer within %(seconds)d s.") % {"seconds": model.timeout},
            code="upstream_timeout",
        ) from None
    except httpx.HTTPError:
        raise _unreachable() from None
    if response.status_code >= 400:
        raise _upstream_refusal(response)
    try:
        data = sorted(response.json()["data"], key=lambda d: d["index"])
        vectors = [[float(x) for x in d["embedding"]] for d in data]
        upstream_usage = response.json().get("usage") or {}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise errors.reply_failed(_("The embedding model's answer could not be read."), code="upstream_error") from None
    if len(vectors) != len(request.inputs) or any(isinstance(v, list) and not v for v in vectors):
        raise errors.reply_failed(_("The embedding model's answer could not be read."), code="upstream_error")
    if request.dimensions is not None and any(len(v) != request.dimensions for v in vectors):
        raise errors.invalid(
            _("This model does not support specifying dimensions (its vectors have %(size)d).")
            % {"size": len(vectors[0])},
            param="dimensions",
        )
    if model.embedded:  # llama.cpp's pooled vectors are not unit length; OpenAI's are
        vectors = [_unit(v) for v in vectors]
    return _response(request, vectors, _prompt_tokens(upstream_usage, request.inputs))


def _unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else vector


def _prompt_tokens(upstream_usage: dict, inputs: list[str]) -> int:
    """The upstream's count when it gives one, else the conservative estimate (``core.tokens``)."""
    count = upstream_usage.get("prompt_tokens") if isinstance(upstream_usage, dict) else None
    if isinstance(count, int) and not isinstance(count, bool) and count > 0:
        return count
    return sum(estimate_tokens(text) for text in inputs)


def _upstream_refusal(response: httpx.Response) -> errors.OpenAIError:
    """The upstream's error: its 4xx about the input (too long, most often) is the client's 400,
    with the upstream's words; 429 and 5xx are a 503 to retry."""
    if response.status_code == 429 or response.status_code >= 500:
        return errors.reply_failed(
            _("The embedding model's server failed (HTTP %(status)d); try again.") % {"status": response.status_code},
            code="upstream_rate_limited" if response.status_code == 429 else "upstream_error",
        )
    message = ""
    try:
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message", "") if isinstance(error, dict) else str(body.get("detail") or "")
    except (ValueError, AttributeError):
        pass
    if response.status_code in (400, 413, 422):
        if "context" in message.lower() or "token" in message.lower() or response.status_code == 413:
            return errors.invalid(
                message or _("An input is longer than the embedding model can take."),
                param="input",
                code="context_length_exceeded",
            )
        return errors.invalid(
            message or _("The embedding model refused the request."), param="input", code="invalid_input"
        )
    return errors.reply_failed(
        _("The embedding model's server refused the call (HTTP %(status)d).") % {"status": response.status_code},
        code="upstream_refused",
    )


def _encoded(vector: list[float], encoding_format: str):
    if encoding_format == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector


def _response(request: EmbeddingRequest, vectors: list[list[float]], prompt_tokens: int) -> dict:
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": index, "embedding": _encoded(vector, request.encoding_format)}
            for index, vector in enumerate(vectors)
        ],
        "model": request.model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }
