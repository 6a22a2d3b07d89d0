"""The request body of ``POST /v1/chat/completions``, checked as OpenAI's API reference describes it.

Parameters this server has no use for (``top_p``, ``presence_penalty``, ``user``, ``seed``...) are
accepted and ignored, as front-ends send them unasked; ones that would change the answer's shape
in ways it cannot honour (``n`` > 1, tools) are refused with a 400 naming them.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conversations import images
from conversations.services import SYSTEM_PROMPT_MAX_CHARS
from core.serializers import InputSerializer

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


class ChatMessageSerializer(InputSerializer):
    role = serializers.ChoiceField(choices=ROLES)
    content = MessageContentField(allow_null=True, required=False)
    name = serializers.CharField(required=False, max_length=64)

    def validate(self, attrs):
        try:
            content = _content_of(attrs.get("content"), role=attrs["role"])
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
        return {"role": attrs["role"], "content": content}


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

    def to_internal_value(self, data):
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

    def validate(self, attrs):
        for unsupported in ("tools", "functions"):
            if self.initial_data.get(unsupported):
                raise serializers.ValidationError({unsupported: [_("Tools are not supported by this server.")]})
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
        attrs["turns"] = [
            {"role": "user" if t["role"] == "user" else "assistant", "content": t["content"]}
            for t in turns
            if t["role"] in ("user", "assistant") and t["content"]
        ]
        if not attrs["turns"] or attrs["turns"][-1]["role"] != "user":
            raise serializers.ValidationError({"messages": [_("The last message with content must be the user's.")]})
        attrs["max_tokens"] = attrs.get("max_completion_tokens") or attrs.get("max_tokens")
        attrs["include_usage"] = bool((attrs.get("stream_options") or {}).get("include_usage"))
        attrs["stream"] = bool(attrs.get("stream"))
        attrs["images"] = sum(images.image_count(t["content"]) for t in turns)
        return attrs
