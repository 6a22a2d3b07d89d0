"""The OpenAPI description of ``/v1`` (served by the async views in ``views.py``): documentation
shells, as for the SSE stream, so the one document lists every API of the service."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers

from accounts.authentication import ApiKeyAuthentication
from core.viewsets import AsyncViewDocs

from . import embeddings, surface, views
from .serializers import ChatCompletionRequestSerializer


class OpenAIErrorSerializer(serializers.Serializer):
    error = inline_serializer(
        "OpenAIErrorDetail",
        {
            "message": serializers.CharField(),
            "type": serializers.CharField(),
            "param": serializers.CharField(allow_null=True),
            "code": serializers.CharField(allow_null=True),
        },
    )


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(OpenAIErrorSerializer, description)


_USAGE = inline_serializer(
    "CompletionUsage",
    {
        "prompt_tokens": serializers.IntegerField(),
        "completion_tokens": serializers.IntegerField(),
        "total_tokens": serializers.IntegerField(),
    },
)
_COMPLETION = inline_serializer(
    "ChatCompletion",
    {
        "id": serializers.CharField(),
        "object": serializers.ChoiceField(choices=["chat.completion"]),
        "created": serializers.IntegerField(),
        "model": serializers.CharField(),
        "system_fingerprint": serializers.CharField(allow_null=True),
        "choices": inline_serializer(
            "ChatCompletionChoice",
            {
                "index": serializers.IntegerField(),
                "message": inline_serializer(
                    "ChatCompletionMessage",
                    {
                        "role": serializers.ChoiceField(choices=["assistant"]),
                        "content": serializers.CharField(allow_blank=True, allow_null=True),
                        "refusal": serializers.CharField(allow_null=True),
                        "tool_calls": serializers.JSONField(
                            required=False,
                            help_text='Only when the model called tools: [{"id", "type": "function", '
                            '"function": {"name", "arguments"}}] (content is then null when it wrote nothing).',
                        ),
                    },
                ),
                "logprobs": serializers.JSONField(
                    allow_null=True,
                    help_text='With logprobs true: {"content": [{token, logprob, bytes, top_logprobs}]}.',
                ),
                "finish_reason": serializers.ChoiceField(choices=["stop", "length", "tool_calls", "content_filter"]),
            },
            many=True,
        ),
        "usage": _USAGE,
    },
)


@extend_schema_serializer(component_name="Model")
class OpenAIModelSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.ChoiceField(choices=["model"])
    created = serializers.IntegerField()
    owned_by = serializers.CharField()
    capabilities = serializers.ListField(
        child=serializers.CharField(),
        help_text="What it takes beyond text: vision = image_url parts; embeddings = the embedding model "
        "(/v1/embeddings only).",
    )


_MODEL = OpenAIModelSerializer
_MODELS = inline_serializer(
    "ModelList",
    {"object": serializers.ChoiceField(choices=["list"]), "data": OpenAIModelSerializer(many=True)},
)
_EMBEDDING_REQUEST = inline_serializer(
    "EmbeddingRequest",
    {
        "model": serializers.CharField(help_text="The embedding model's id (the one with `embeddings` in /v1/models)."),
        "input": serializers.JSONField(
            help_text=f"A string, or a list of 1 to {embeddings.MAX_INPUTS} non-empty strings. Token ids are refused."
        ),
        "encoding_format": serializers.ChoiceField(choices=["float", "base64"], required=False, default="float"),
        "dimensions": serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="Forwarded to a configured model, which must answer vectors of that size; the embedded "
            f"model's are {embeddings.EMBEDDED_DIMENSIONS} and it refuses any other.",
        ),
        "user": serializers.CharField(required=False, help_text="An end-user id of yours; not used."),
    },
)
_EMBEDDINGS = inline_serializer(
    "EmbeddingList",
    {
        "object": serializers.ChoiceField(choices=["list"]),
        "data": inline_serializer(
            "Embedding",
            {
                "object": serializers.ChoiceField(choices=["embedding"]),
                "index": serializers.IntegerField(),
                "embedding": serializers.JSONField(
                    help_text="A list of floats, or with encoding_format base64 their little-endian float32 bytes."
                ),
            },
            many=True,
        ),
        "model": serializers.CharField(),
        "usage": inline_serializer(
            "EmbeddingUsage", {"prompt_tokens": serializers.IntegerField(), "total_tokens": serializers.IntegerField()}
        ),
    },
)
# One Server-Sent Event as a client's parser sees it; `data` is a chat.completion.chunk, or [DONE].
_CHUNK_EVENT = {"type": "object", "properties": {"data": {"type": "string"}}}

_STREAM_DESCRIPTION = """
OpenAI's Chat Completions. `stream: true` answers Server-Sent Events: `data: {chat.completion.chunk}`
lines (the first with `delta.role`, then `delta.content`, then one with `finish_reason`; with
`stream_options.include_usage` a last chunk with `usage` and no choices), then `data: [DONE]`. A
failure of the model after the stream began arrives as `data: {"error": {...}}`.

System and developer messages become the system prompt; text content parts are joined. A user
message's `image_url` parts go to a model whose `capabilities` (in `/v1/models`) include `vision`,
as data URLs only (`data:image/png;base64,...`, decoded, resized and re-encoded here); an http(s)
image URL is refused (400 `image_url_not_supported`: this server fetches no address a client
names), broken or oversized data too (`invalid_image`: PNG, JPEG, GIF and WebP only;
`image_too_large`: past `CHAT_IMAGE_MAX_BYTES` or 40 megapixels), more than 10 images in one request
(`too_many_images`), and any image for a model without `vision` (400 `model_cannot_read_images`,
before any image is decoded), all before the model is called.

Every other OpenAI parameter is honoured or refused, never ignored: the sampling ones (`temperature`,
`top_p`, `frequency_penalty`, `presence_penalty`, `seed`, `logit_bias`, `stop`, `max_tokens`) are
forwarded within OpenAI's ranges; `response_format` (`json_object`, `json_schema` with `strict`),
`tools`/`tool_choice`/`parallel_tool_calls` (and assistant `tool_calls` and `tool` messages in the
history) and `logprobs`/`top_logprobs` go to models whose `capabilities` include
`structured_output`, `tools` and `logprobs`, and are a 400 `unsupported_parameter` naming the
parameter otherwise. A `strict` schema's reply that does not match it is a 502
`invalid_structured_output` (streamed: an error event), never prose with a 200. Tool calls come
back whole in `message.tool_calls` with `finish_reason: "tool_calls"`, or streamed as
`delta.tool_calls` (each call whole, with its `index`). `user`, `metadata`, `service_tier`,
`prompt_cache_key`, `safety_identifier` and `store: false` change nothing in the answer; `n` must
be 1; `functions`, `audio`, `prediction`, `reasoning_effort`... and any name OpenAI does not define
are a 400 naming them. Each request
counts against the key's user's plan (daily messages, counted from midnight in the user's saved
`time_zone`, UTC when none is saved; concurrent replies) and usage figures, like
a message sent in the app; its text is kept only with `CHAT_API_KEEP_CONTENT`.
"""


class _ApiKeyDocs(AsyncViewDocs):
    authentication_classes = [ApiKeyAuthentication]
    throttle_classes: list = []  # its 429s (key rate, plan limits) are declared per operation


class ModelsDoc(_ApiKeyDocs):
    serve = staticmethod(surface.models_view)

    @extend_schema(
        tags=["openai"],
        operation_id="openai_models_list",
        summary="List the models your API key may use (OpenAI's shape)",
        responses={
            200: _MODELS,
            401: _error("invalid_api_key"),
            429: _error("rate_limit_exceeded: over the key's request rate; Retry-After says when to retry."),
        },
    )
    def get(self, request):  # pragma: no cover - documentation only
        raise NotImplementedError


class ChatCompletionsDoc(_ApiKeyDocs):
    serve = staticmethod(views.chat_completions_view)

    @extend_schema(
        tags=["openai"],
        operation_id="openai_chat_completions_create",
        summary="Chat completion, whole or streamed (OpenAI's Chat Completions)",
        description=_STREAM_DESCRIPTION,
        request=ChatCompletionRequestSerializer,
        responses={
            (200, "application/json"): OpenApiResponse(_COMPLETION, "The whole completion (stream false)."),
            (200, "text/event-stream"): OpenApiResponse(_CHUNK_EVENT, "chat.completion.chunk events (stream true)."),
            400: _error("The request is malformed; `param` names the field."),
            401: _error("invalid_api_key: missing, unknown, revoked or expired key, or its user is deactivated."),
            404: _error("model_not_found: no such model, or not in your plan."),
            415: _error("The body is not JSON."),
            429: _error(
                "rate_limit_exceeded: the key's request rate, or the plan's concurrent replies after waiting "
                "CHAT_API_SLOT_WAIT_SECONDS for one to end (x-should-retry: true); daily_quota_exceeded "
                "(insufficient_quota, final until the user's midnight, x-should-retry: false). Retry-After says "
                "when to retry."
            ),
            502: _error(
                "The reply failed in a way a retry will not cure: invalid_structured_output (the reply broke "
                "response_format), or the model's server refused the request for good."
            ),
            503: _error("The model's server failed or is unreachable; a retry may work."),
        },
    )
    def post(self, request):  # pragma: no cover - documentation only
        raise NotImplementedError


class ModelDoc(_ApiKeyDocs):
    serve = staticmethod(surface.model_view)

    @extend_schema(
        tags=["openai"],
        operation_id="openai_models_retrieve",
        summary="One model your API key may use (OpenAI's shape)",
        responses={
            200: _MODEL,
            401: _error("invalid_api_key"),
            404: _error("model_not_found: no such model, or not in your plan."),
            429: _error("rate_limit_exceeded: over the key's request rate; Retry-After says when to retry."),
        },
    )
    def get(self, request, model):  # pragma: no cover - documentation only
        raise NotImplementedError


_EMBEDDINGS_DESCRIPTION = """
OpenAI's Embeddings. The model is the one configured for knowledge (the admin's embedding
settings) when it is on, else the embedded default `smollm2-135m-embedding` (SmolLM2 served by
llama.cpp, mean-pooled, unit-length vectors of 576 floats); `/v1/models` lists it with
`capabilities: ["embeddings"]`. `encoding_format` `base64` (what OpenAI's SDKs ask for) is the
little-endian float32 bytes. An input longer than the model's window is refused (400
`context_length_exceeded`, `param` `input`), never cut. Token-id inputs are refused (400,
`token_ids_not_supported`; LangChain's `OpenAIEmbeddings` needs `check_embedding_ctx_length=False`).
A request counts against the key's request rate, not the plan's daily messages.
"""


class EmbeddingsDoc(_ApiKeyDocs):
    serve = staticmethod(surface.embeddings_view)

    @extend_schema(
        tags=["openai"],
        operation_id="openai_embeddings_create",
        summary="Embeddings of one or more texts (OpenAI's Embeddings)",
        description=_EMBEDDINGS_DESCRIPTION,
        request=_EMBEDDING_REQUEST,
        responses={
            200: _EMBEDDINGS,
            400: _error("The request is malformed or an input too long; `param` names the field."),
            401: _error("invalid_api_key"),
            404: _error("model_not_found: not the embedding model, or none is configured."),
            415: _error("The body is not JSON."),
            429: _error("rate_limit_exceeded: over the key's request rate; Retry-After says when to retry."),
            503: _error("The embedding model's server failed or is unreachable."),
        },
    )
    def post(self, request):  # pragma: no cover - documentation only
        raise NotImplementedError
