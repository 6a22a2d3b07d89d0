"""The request body of ``POST /v1/chat/completions``, checked as OpenAI's API reference describes it.

Every parameter is forwarded, has no effect on the answer, or is refused with a 400 naming it
(``parameters``); whether the model named can honour ``response_format``, ``tools`` and
``logprobs`` is the service's check (``api_model_check``), once the model is known.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conversations import capabilities, images
from conversations.services import SYSTEM_PROMPT_MAX_CHARS
from core.serializers import InputSerializer

from . import parameters

ROLES = ("system", "developer", "user", "assistant", "tool")
MAX_MESSAGES = 1000
MAX_STOP_SEQUENCES = 4


# Images one request may carry, all its messages together (each is decoded and re-encoded here).
MAX_IMAGES = 10
IMAGE_CODES = ("image_url_not_supported", "image_too_large", "invalid_image", "too_many_images")


def _image_part(part: dict) -> dict:
    """An ``image_url`` part, checked but not decoded: only a ``data:image/...;base64`` URL of at
    most ``CHAT_IMAGE_MAX_BYTES``. An http(s) URL is refused: fetching it would have this server
    request any address a client names. ``images_prepared`` decodes it once the model is known to
    read images."""
    image_url = part.get("image_url")
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str):
        raise serializers.ValidationError(_('An image_url part is {"type": "image_url", "image_url": {"url": ...}}.'))
    if not url.strip().lower().startswith("data:"):
        raise serializers.ValidationError(
            _(
                "Only images sent inline as data:image/...;base64 URLs are accepted; this server does not fetch "
                "http(s) image URLs."
            ),
            code="image_url_not_supported",
        )
    try:
        images.data_url_bytes(url)
    except images.ImageProblem as exc:
        raise serializers.ValidationError(str(exc), code=exc.code) from exc
    return {"type": "image_url", "image_url": {"url": url}}


def images_prepared(messages: list[dict]) -> None:
    """Decode, bound, rotate, resize and re-encode (``conversations.images``) the image parts of
    the validated ``messages``, in place; a ``ValidationError`` naming the message on a bad one.
    Costly (up to a second and a few hundred MB an image): called only for a model with the
    vision capability, off the request's database thread."""
    for index, message in enumerate(messages):
        content = message["content"]
        if isinstance(content, str):
            continue
        for position, part in enumerate(content):
            if part.get("type") != "image_url":
                continue
            try:
                url = images.data_url(images.data_url_bytes(part["image_url"]["url"]))
            except images.ImageProblem as exc:
                raise serializers.ValidationError(
                    {"messages": {index: {"content": [serializers.ErrorDetail(str(exc), code=exc.code)]}}}
                ) from exc
            content[position] = {"type": "image_url", "image_url": {"url": url}}


def _images_in(messages) -> int:
    """The image parts of a request's raw messages (before any is checked)."""
    if not isinstance(messages, list):
        return 0
    return sum(
        1
        for message in messages
        if isinstance(message, dict) and isinstance(message.get("content"), list)
        for part in message["content"]
        if isinstance(part, dict) and part.get("type") == "image_url"
    )


def _content_of(content, *, role: str) -> str | list[dict]:
    """A message's content: a string, or (a user message with images) a list of a text part and
    ``image_url`` parts; other roles' parts are joined into their text."""
    if content is None:
        if role in ("assistant", "tool"):
            return ""
        raise serializers.ValidationError(_("Give the message's content."))
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts, pictures = [], []
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif kind == "image_url" and role == "user":
                pictures.append(_image_part(part))
            else:
                raise serializers.ValidationError(
                    'Content parts are {"type": "text", "text": ...} and, in user messages, '
                    '{"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}.'
                )
        text = "\n".join(texts)
        return [{"type": "text", "text": text}, *pictures] if pictures else text
    raise serializers.ValidationError(_("Content is a string or a list of content parts."))


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}},
                    "required": ["type", "text"],
                },
            },
        ],
        "nullable": True,
        "description": "A string, or a list of content parts: text, and in user messages image_url parts "
        "(data:image/...;base64 URLs only, for models with the vision capability); null only for assistant "
        "and tool messages.",
    }
)
class MessageContentField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "minLength": 1},
            {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": MAX_STOP_SEQUENCES},
        ],
        "nullable": True,
    }
)
class StopField(serializers.JSONField):
    pass


def _tool_calls(value) -> list[dict]:
    """An assistant message's ``tool_calls``: ``[{"id", "type": "function", "function": {"name",
    "arguments"}}]``, kept as sent (the upstream sees them intact)."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > parameters.MAX_TOOLS:
        raise serializers.ValidationError(
            _("A list of at most %(count)d tool calls.") % {"count": parameters.MAX_TOOLS}
        )
    calls = []
    if parameters.has_nul(value):
        raise serializers.ValidationError(_("Null characters are not allowed."))
    for call in value:
        function = call.get("function") if isinstance(call, dict) else None
        if (
            not isinstance(call, dict)
            or call.get("type", "function") != "function"
            or not isinstance(call.get("id"), str)
            or not call["id"]
            or len(call["id"]) > 256
            or not isinstance(function, dict)
            or not isinstance(function.get("name"), str)
            or not parameters.NAME.match(function["name"])
            or not isinstance(function.get("arguments"), str)
        ):
            raise serializers.ValidationError(
                _('A tool call is {"id": ..., "type": "function", "function": {"name": ..., "arguments": "..."}}.')
            )
        calls.append(
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": function["name"], "arguments": function["arguments"]},
            }
        )
    return calls


_NAME_SCHEMA = {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"}
_FUNCTION_CALL_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 256},
        "type": {"type": "string", "enum": ["function"]},
        "function": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "arguments": {"type": "string"}},
            "required": ["name", "arguments"],
        },
    },
    "required": ["id", "function"],
}


@extend_schema_field(
    {
        "type": "array",
        "items": _FUNCTION_CALL_SCHEMA,
        "maxItems": parameters.MAX_TOOLS,
        "nullable": True,
        "description": "An assistant message's tool calls, answered by the `tool` messages after it.",
    }
)
class ToolCallsField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        "type": "array",
        "maxItems": parameters.MAX_TOOLS,
        "nullable": True,
        "items": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["function"]},
                "function": {
                    "type": "object",
                    "properties": {
                        "name": _NAME_SCHEMA,
                        "description": {"type": "string"},
                        "parameters": {"type": "object", "description": "A JSON Schema."},
                        "strict": {"type": "boolean"},
                    },
                    "required": ["name"],
                },
            },
            "required": ["type", "function"],
        },
        "description": "Function tools, for models whose capabilities include tools.",
    }
)
class ToolsField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "enum": ["none", "auto", "required"]},
            {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["function"]},
                    "function": {"type": "object", "properties": {"name": _NAME_SCHEMA}, "required": ["name"]},
                },
                "required": ["type", "function"],
            },
        ],
        "nullable": True,
    }
)
class ToolChoiceField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "properties": {
            "type": {"type": "string", "enum": ["text", "json_object", "json_schema"]},
            "json_schema": {
                "type": "object",
                "properties": {
                    "name": _NAME_SCHEMA,
                    "description": {"type": "string"},
                    "schema": {"type": "object", "description": "A JSON Schema."},
                    "strict": {"type": "boolean", "nullable": True},
                },
                "required": ["name"],
            },
        },
        "required": ["type"],
        "description": "json_object or json_schema, for models whose capabilities include structured_output.",
    }
)
class ResponseFormatField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "additionalProperties": {"type": "number", "minimum": -100, "maximum": 100},
        "description": "Token ids (strings of digits) to a bias from -100 to 100.",
    }
)
class LogitBiasField(serializers.JSONField):
    pass


class ChatMessageSerializer(InputSerializer):
    role = serializers.ChoiceField(choices=ROLES)
    content = MessageContentField(allow_null=True, required=False)
    name = serializers.CharField(required=False, max_length=64)
    tool_calls = ToolCallsField(required=False, allow_null=True)
    tool_call_id = serializers.CharField(required=False, allow_null=True, max_length=256)
    # An assistant's earlier refusal, the deprecated function_call, audio: null only (clients that
    # dump their message objects send them so); anything else in a message is refused by name.
    KNOWN = ("role", "content", "name", "tool_calls", "tool_call_id", "refusal", "function_call", "audio")

    def to_internal_value(self, data):
        if isinstance(data, dict):
            for name, value in data.items():
                if name not in self.KNOWN:
                    raise serializers.ValidationError(
                        {name: [_("Unrecognized request argument supplied: %(name)s") % {"name": name}]}
                    )
                if name in ("refusal", "function_call", "audio") and value is not None:
                    raise serializers.ValidationError({name: [_("Not supported in messages by this server.")]})
        return super().to_internal_value(data)

    def validate(self, attrs):
        role = attrs["role"]
        calls = []
        if attrs.get("tool_calls"):
            if role != "assistant":
                raise serializers.ValidationError({"tool_calls": [_("Only assistant messages have tool_calls.")]})
            try:
                calls = _tool_calls(attrs["tool_calls"])
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"tool_calls": exc.detail}) from exc
        if role == "tool" and not attrs.get("tool_call_id"):
            raise serializers.ValidationError({"tool_call_id": [_("A tool message answers a tool call: give its id.")]})
        try:
            content = _content_of(attrs.get("content"), role=role)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"content": exc.detail}) from exc
        text = images.content_text(content)
        if "\x00" in text:
            raise serializers.ValidationError({"content": [_("Null characters are not allowed.")]})
        if len(text) > settings.CHAT["MAX_MESSAGE_CHARS"]:
            limit = settings.CHAT["MAX_MESSAGE_CHARS"]
            raise serializers.ValidationError(
                {"content": [_("A message has at most %(limit)d characters.") % {"limit": limit}]}
            )
        message = {"role": role, "content": content}
        if attrs.get("name") and role in ("user", "assistant"):
            message["name"] = attrs["name"]  # who said it, for upstreams that read it
        if calls:
            message["tool_calls"] = calls
        if role == "tool":
            message["tool_call_id"] = attrs["tool_call_id"]
        return message


class StreamOptionsSerializer(InputSerializer):
    include_usage = serializers.BooleanField(required=False, default=False)
    # OpenAI's padding of streamed chunks against length side channels: nothing to pad here.
    include_obfuscation = serializers.BooleanField(required=False, allow_null=True)

    def to_internal_value(self, data):
        unknown = [name for name in data if name not in self.fields] if isinstance(data, dict) else []
        if unknown:
            raise serializers.ValidationError(
                {unknown[0]: [_("Unrecognized request argument supplied: %(name)s") % {"name": unknown[0]}]}
            )
        return super().to_internal_value(data)


class ChatCompletionRequestSerializer(InputSerializer):
    model = serializers.CharField(max_length=200)
    messages = serializers.ListField(child=ChatMessageSerializer(), min_length=1, max_length=MAX_MESSAGES)
    stream = serializers.BooleanField(required=False, default=False, allow_null=True)
    stream_options = StreamOptionsSerializer(required=False, allow_null=True)
    max_tokens = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1)
    max_completion_tokens = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1)
    temperature = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=2)
    top_p = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)
    frequency_penalty = serializers.FloatField(required=False, allow_null=True, min_value=-2, max_value=2)
    presence_penalty = serializers.FloatField(required=False, allow_null=True, min_value=-2, max_value=2)
    seed = serializers.IntegerField(required=False, allow_null=True, min_value=-(2**63), max_value=2**63 - 1)
    logit_bias = LogitBiasField(required=False, allow_null=True)
    stop = StopField(required=False, allow_null=True)
    n = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=1,
        error_messages={"max_value": _lazy("This server returns one choice per request: n is 1.")},
    )
    response_format = ResponseFormatField(required=False, allow_null=True)
    tools = ToolsField(required=False, allow_null=True)
    tool_choice = ToolChoiceField(required=False, allow_null=True)
    parallel_tool_calls = serializers.BooleanField(required=False, allow_null=True)
    logprobs = serializers.BooleanField(required=False, allow_null=True)
    top_logprobs = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=20)

    def to_internal_value(self, data):
        refused = parameters.unsupported(data) if isinstance(data, dict) else None
        if refused:
            raise serializers.ValidationError({refused[0]: [refused[1]]})
        # Counted before any message is checked: a request's images are bounded together.
        if isinstance(data, dict) and _images_in(data.get("messages")) > MAX_IMAGES:
            raise serializers.ValidationError(
                {
                    "messages": [
                        _("At most %(limit)d images per request (all messages together).") % {"limit": MAX_IMAGES}
                    ]
                },
                code="too_many_images",
            )
        return super().to_internal_value(data)

    def validate_stop(self, value):
        if value is None:
            return []
        stops = [value] if isinstance(value, str) else value
        if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
            raise serializers.ValidationError(_("A string or a list of non-empty strings."))
        if len(stops) > MAX_STOP_SEQUENCES:
            raise serializers.ValidationError(_("At most %(limit)d stop sequences.") % {"limit": MAX_STOP_SEQUENCES})
        # Saved with the reply's options (a JSON column), which PostgreSQL cannot hold a NUL in.
        if any("\x00" in s for s in stops):
            raise serializers.ValidationError(_("Null characters are not allowed."))
        return stops

    def validate_response_format(self, value):
        if parameters.has_nul(value):
            raise serializers.ValidationError(_("Null characters are not allowed."))
        return parameters.response_format(value)

    def validate_tools(self, value):
        if parameters.has_nul(value):
            raise serializers.ValidationError(_("Null characters are not allowed."))
        return parameters.tools(value)

    def validate_tool_choice(self, value):
        if parameters.has_nul(value):
            raise serializers.ValidationError(_("Null characters are not allowed."))
        return value

    def validate_logit_bias(self, value):
        return parameters.logit_bias(value)

    def _tools_checked(self, attrs) -> None:
        names = [tool["function"]["name"] for tool in attrs.get("tools") or []]
        try:
            attrs["tool_choice"] = parameters.tool_choice(attrs.get("tool_choice"), names)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"tool_choice": exc.detail}) from exc
        if attrs.get("parallel_tool_calls") is not None and not names:
            raise serializers.ValidationError(
                {"parallel_tool_calls": [_("parallel_tool_calls is only allowed when tools are given.")]}
            )
        if attrs.get("top_logprobs") is not None and not attrs.get("logprobs"):
            raise serializers.ValidationError({"top_logprobs": [_("top_logprobs needs logprobs set to true.")]})

    def validate(self, attrs):
        self._tools_checked(attrs)
        turns = attrs["messages"]
        # System and developer messages become the system prompt; the other turns the history.
        attrs["system"] = "\n\n".join(
            images.content_text(t["content"]) for t in turns if t["role"] in ("system", "developer")
        )
        if len(attrs["system"]) > SYSTEM_PROMPT_MAX_CHARS:  # the app's limit on a system prompt
            raise serializers.ValidationError(
                {
                    "messages": [
                        _("System and developer messages have at most %(limit)d characters.")
                        % {"limit": SYSTEM_PROMPT_MAX_CHARS}
                    ]
                }
            )
        if attrs.get("stream_options") and not attrs.get("stream"):
            raise serializers.ValidationError({"stream_options": [_("Only allowed when stream is true.")]})
        attrs["turns"] = _conversation_turns(turns)
        if not attrs["turns"] or attrs["turns"][-1]["role"] not in ("user", "tool"):
            raise serializers.ValidationError(
                {"messages": [_("The last message with content must be the user's (or a tool's result).")]}
            )
        attrs["max_tokens"] = attrs.get("max_completion_tokens") or attrs.get("max_tokens")
        attrs["include_usage"] = bool((attrs.get("stream_options") or {}).get("include_usage"))
        attrs["stream"] = bool(attrs.get("stream"))
        attrs["images"] = sum(images.image_count(t["content"]) for t in turns)
        attrs["upstream"] = _forwarded(attrs)
        attrs["needs"] = _capabilities_needed(attrs)
        return attrs


def _capabilities_needed(attrs) -> dict[str, str]:
    """{capability: the parameter that asks for it} for the model's check (``api_model_check``)."""
    needs = {}
    if attrs.get("response_format"):
        needs[capabilities.STRUCTURED_OUTPUT] = "response_format"
    if attrs.get("tools"):
        needs[capabilities.TOOLS] = "tools"
    elif any(t["role"] == "tool" or t.get("tool_calls") for t in attrs["turns"]):
        needs[capabilities.TOOLS] = "messages"
    if attrs.get("logprobs"):
        needs[capabilities.LOGPROBS] = "logprobs"
    return needs


# Forwarded to the upstream as they are (when given); the service checks the model honours the
# ones that need a capability.
_FORWARDED = (
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "seed",
    "logit_bias",
    "response_format",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "logprobs",
    "top_logprobs",
)


def _forwarded(attrs) -> dict:
    """The parameters given, as given. Left out: null, an empty list, and ``logprobs: false``
    (OpenAI's default). Kept: a 0 (``seed: 0``, ``top_p: 0`` are not defaults) and
    ``parallel_tool_calls: false`` (one call at a time, not the default)."""
    forwarded = {}
    for name in _FORWARDED:
        value = attrs.get(name)
        if value is None or value == [] or (value is False and name != "parallel_tool_calls"):
            continue
        forwarded[name] = value
    return forwarded


def _conversation_turns(messages: list[dict]) -> list[dict]:
    """The turns the model is sent after the system prompt: user, assistant (with its tool calls)
    and tool messages, in order. An assistant message with neither text nor calls says nothing.
    Each tool message must answer a call made before it, and each call be answered (OpenAI's rules)."""
    turns, open_calls = [], {}
    for index, message in enumerate(messages):
        role = message["role"]
        if role in ("system", "developer"):
            continue
        if role == "tool":
            if message["tool_call_id"] not in open_calls:
                raise serializers.ValidationError(
                    {
                        "messages": {
                            index: {"tool_call_id": [_("No earlier assistant message made a tool call with this id.")]}
                        }
                    }
                )
            open_calls.pop(message["tool_call_id"])
            turns.append(message)
            continue
        if open_calls:
            raise serializers.ValidationError(
                {
                    "messages": {
                        index: [
                            _("Tool calls must be answered by tool messages first: %(ids)s.")
                            % {"ids": ", ".join(open_calls)}
                        ]
                    }
                }
            )
        if role == "assistant" and message.get("tool_calls"):
            open_calls = {call["id"]: index for call in message["tool_calls"]}
            turns.append(message)
        elif message["content"]:
            turns.append(message)
    if open_calls:
        raise serializers.ValidationError(
            {"messages": [_("Tool calls must be answered by tool messages: %(ids)s.") % {"ids": ", ".join(open_calls)}]}
        )
    return turns
