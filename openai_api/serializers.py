"""The request body of ``POST /v1/chat/completions``, checked as OpenAI's API reference describes it.

Parameters this server has no use for (``top_p``, ``presence_penalty``, ``user``, ``seed``...) are
accepted and ignored, as front-ends send them unasked; ones that would change the answer's shape
in ways it cannot honour (``n`` > 1, tools) are refused with a 400 naming them.
"""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conversations.services import SYSTEM_PROMPT_MAX_CHARS
from core.serializers import InputSerializer

ROLES = ("system", "developer", "user", "assistant", "tool")
MAX_MESSAGES = 1000
MAX_STOP_SEQUENCES = 4


def _text_of(content, *, role: str) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if content is None:
        if role in ("assistant", "tool"):
            return ""
        raise serializers.ValidationError("Give the message's content.")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise serializers.ValidationError(
                    'Only text content parts ({"type": "text", "text": ...}) are supported.'
                )
            texts.append(part["text"])
        return "\n".join(texts)
    raise serializers.ValidationError("Content is a string or a list of text parts.")


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
        "description": "A string, or a list of text parts; null only for assistant and tool messages.",
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


class ChatMessageSerializer(InputSerializer):
    role = serializers.ChoiceField(choices=ROLES)
    content = MessageContentField(allow_null=True, required=False)
    name = serializers.CharField(required=False, max_length=64)

    def validate(self, attrs):
        try:
            text = _text_of(attrs.get("content"), role=attrs["role"])
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"content": exc.detail}) from exc
        if "\x00" in text:
            raise serializers.ValidationError({"content": ["Null characters are not allowed."]})
        if len(text) > settings.CHAT["MAX_MESSAGE_CHARS"]:
            limit = settings.CHAT["MAX_MESSAGE_CHARS"]
            raise serializers.ValidationError({"content": [f"A message has at most {limit} characters."]})
        return {"role": attrs["role"], "content": text}


class StreamOptionsSerializer(InputSerializer):
    include_usage = serializers.BooleanField(required=False, default=False)


class ChatCompletionRequestSerializer(InputSerializer):
    model = serializers.CharField(max_length=200)
    messages = serializers.ListField(child=ChatMessageSerializer(), min_length=1, max_length=MAX_MESSAGES)
    stream = serializers.BooleanField(required=False, default=False, allow_null=True)
    stream_options = StreamOptionsSerializer(required=False, allow_null=True)
    max_tokens = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1)
    max_completion_tokens = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1)
    temperature = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=2)
    stop = StopField(required=False, allow_null=True)
    n = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=1)

    def validate_stop(self, value):
        if value is None:
            return []
        stops = [value] if isinstance(value, str) else value
        if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
            raise serializers.ValidationError("A string or a list of non-empty strings.")
        if len(stops) > MAX_STOP_SEQUENCES:
            raise serializers.ValidationError(f"At most {MAX_STOP_SEQUENCES} stop sequences.")
        # Saved with the reply's options (a JSON column), which PostgreSQL cannot hold a NUL in.
        if any("\x00" in s for s in stops):
            raise serializers.ValidationError("Null characters are not allowed.")
        return stops

    def validate(self, attrs):
        for unsupported in ("tools", "functions"):
            if self.initial_data.get(unsupported):
                raise serializers.ValidationError({unsupported: ["Tools are not supported by this server."]})
        turns = attrs["messages"]
        # System and developer messages become the system prompt; the other turns the history.
        attrs["system"] = "\n\n".join(t["content"] for t in turns if t["role"] in ("system", "developer"))
        if len(attrs["system"]) > SYSTEM_PROMPT_MAX_CHARS:  # the app's limit on a system prompt
            raise serializers.ValidationError(
                {"messages": [f"System and developer messages have at most {SYSTEM_PROMPT_MAX_CHARS} characters."]}
            )
        if attrs.get("stream_options") and not attrs.get("stream"):
            raise serializers.ValidationError({"stream_options": ["Only allowed when stream is true."]})
        attrs["turns"] = [
            {"role": "user" if t["role"] == "user" else "assistant", "content": t["content"]}
            for t in turns
            if t["role"] in ("user", "assistant") and t["content"]
        ]
        if not attrs["turns"] or attrs["turns"][-1]["role"] != "user":
            raise serializers.ValidationError({"messages": ["The last message with content must be the user's."]})
        attrs["max_tokens"] = attrs.get("max_completion_tokens") or attrs.get("max_tokens")
        attrs["include_usage"] = bool((attrs.get("stream_options") or {}).get("include_usage"))
        attrs["stream"] = bool(attrs.get("stream"))
        return attrs
