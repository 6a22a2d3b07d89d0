"""What this server does with each of OpenAI's Chat Completions parameters: nothing is accepted and
then ignored. A parameter is forwarded to the model's upstream (the sampling ones to every model;
``response_format``, ``tools`` and ``logprobs`` to models with that capability, checked in
``conversations.services.api_model_check``), or it does not change the answer (``user``,
``metadata``...), or it is refused with a 400 naming it (``param``), as is any name OpenAI does not
define ("Unrecognized request argument supplied", OpenAI's own words).

The structured shapes (``response_format``, ``tools``, ``tool_choice``) are checked here as OpenAI
checks them, so an upstream never sees a malformed one.
"""

import json
import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from conversations.generation.structured import schema_problem

# Taken and used: the serializer's fields, forwarded or acted on.
HANDLED = (
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "seed",
    "logit_bias",
    "stop",
    "n",
    "response_format",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "logprobs",
    "top_logprobs",
)
# Accepted, and none changes the answer: who asks (``user``, ``safety_identifier``), labels and
# cache hints for OpenAI's own dashboards, the processing tier. ``store`` is checked below.
NO_EFFECT = ("user", "safety_identifier", "metadata", "prompt_cache_key", "service_tier", "store")
# OpenAI's parameters this server cannot honour: refused, with why.
REFUSED = {
    "functions": gettext_lazy("functions is deprecated and not supported here: send tools instead."),
    "function_call": gettext_lazy("function_call is deprecated and not supported here: send tool_choice instead."),
    "audio": gettext_lazy("Audio output is not supported by this server."),
    "modalities": gettext_lazy('Only text output is supported by this server (modalities ["text"]).'),
    "prediction": gettext_lazy("Predicted outputs are not supported by this server."),
    "web_search_options": gettext_lazy("Web search is not supported on /v1/chat/completions by this server."),
    "reasoning_effort": gettext_lazy("reasoning_effort is not supported by this server's models."),
    "verbosity": gettext_lazy("verbosity is not supported by this server's models."),
}

NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
TOKEN_ID = re.compile(r"[0-9]{1,10}")
MAX_TOOLS = 128
MAX_LOGIT_BIAS = 300
MAX_METADATA_PAIRS = 16
MAX_SCHEMA_BYTES = 100_000


def has_nul(value) -> bool:
    """Whether a NUL character is in any string of ``value`` (keys too): the request is stored
    with its reply (a JSON column), which PostgreSQL cannot hold one in."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


def unsupported(data: dict) -> tuple[str, str] | None:
    """(param, message) for the first parameter of ``data`` this server refuses, or None."""
    for name in data:
        if name in HANDLED:
            continue
        if name in NO_EFFECT:
            problem = _no_effect_problem(name, data[name])
            if problem:
                return name, problem
            continue
        if name == "modalities" and data[name] in (None, ["text"]):
            continue
        if name in REFUSED:
            if data[name] is None:
                continue  # OpenAI's SDKs send nothing for a parameter not given; some send null
            return name, str(REFUSED[name])
        return name, _("Unrecognized request argument supplied: %(name)s") % {"name": name}
    return None


def _no_effect_problem(name: str, value) -> str | None:
    if value is None:
        return None
    if name in ("user", "safety_identifier", "prompt_cache_key"):
        if not isinstance(value, str) or len(value) > 512:
            return _("A string of at most 512 characters.")
    elif name == "metadata":
        if not isinstance(value, dict) or len(value) > MAX_METADATA_PAIRS:
            return _("An object of at most %(count)d string pairs.") % {"count": MAX_METADATA_PAIRS}
        if not all(
            isinstance(k, str) and len(k) <= 64 and isinstance(v, str) and len(v) <= 512 for k, v in value.items()
        ):
            return _("Keys are strings of at most 64 characters, values strings of at most 512.")
    elif name == "service_tier":
        if value not in ("auto", "default", "flex", "scale", "priority"):
            return _("One of auto, default, flex, scale, priority.")
    elif name == "store":
        if not isinstance(value, bool):
            return _("Must be true or false.")
        if value:
            return _("Stored completions are not supported by this server: send store false or leave it out.")
    return None


def _schema_object(value, *, where: str) -> dict:
    if not isinstance(value, dict):
        raise serializers.ValidationError({where: [_("A JSON Schema object.")]})
    if len(json.dumps(value)) > MAX_SCHEMA_BYTES:
        raise serializers.ValidationError(
            {where: [_("A schema of at most %(size)d bytes.") % {"size": MAX_SCHEMA_BYTES}]}
        )
    return value


def response_format(value) -> dict | None:
    """``{"type": "text"}`` (None: nothing to forward), ``{"type": "json_object"}`` or
    ``{"type": "json_schema", "json_schema": {"name", "schema", "strict"?, "description"?}}``."""
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in ("text", "json_object", "json_schema"):
        raise serializers.ValidationError(_('An object whose type is "text", "json_object" or "json_schema".'))
    kind = value["type"]
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    spec = value.get("json_schema")
    if not isinstance(spec, dict):
        raise serializers.ValidationError({"json_schema": [_("Give json_schema: {name, schema, strict}.")]})
    name = spec.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise serializers.ValidationError(
            {"json_schema.name": [_("A name of 1 to 64 letters, digits, underscores and dashes.")]}
        )
    out = {"name": name, "schema": _schema_object(spec.get("schema", {}), where="json_schema.schema")}
    problem = schema_problem(out["schema"])
    if problem:
        raise serializers.ValidationError(
            {"json_schema.schema": [_("Not a valid JSON Schema: %(problem)s") % {"problem": problem}]}
        )
    if "strict" in spec and spec["strict"] is not None:
        if not isinstance(spec["strict"], bool):
            raise serializers.ValidationError({"json_schema.strict": [_("Must be true or false.")]})
        out["strict"] = spec["strict"]
    if isinstance(spec.get("description"), str):
        out["description"] = spec["description"]
    return {"type": "json_schema", "json_schema": out}


def tools(value) -> list[dict]:
    """OpenAI's function tools, each ``{"type": "function", "function": {"name", "description"?,
    "parameters"?, "strict"?}}``."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_TOOLS:
        raise serializers.ValidationError(_("A list of at most %(count)d tools.") % {"count": MAX_TOOLS})
    out, names = [], set()
    for index, tool in enumerate(value):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
            raise serializers.ValidationError(
                {index: [_('A tool is {"type": "function", "function": {"name": ..., "parameters": {...}}}.')]}
            )
        name = function.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise serializers.ValidationError(
                {index: {"function.name": [_("A name of 1 to 64 letters, digits, underscores and dashes.")]}}
            )
        if name in names:
            raise serializers.ValidationError({index: {"function.name": [_("Tool names must be unique.")]}})
        names.add(name)
        kept = {"name": name}
        if function.get("description") is not None:
            if not isinstance(function["description"], str):
                raise serializers.ValidationError({index: {"function.description": [_("Must be a string.")]}})
            kept["description"] = function["description"]
        if function.get("parameters") is not None:
            try:
                kept["parameters"] = _schema_object(function["parameters"], where="function.parameters")
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({index: exc.detail}) from exc
            problem = schema_problem(kept["parameters"])
            if problem:
                raise serializers.ValidationError(
                    {index: {"function.parameters": [_("Not a valid JSON Schema: %(problem)s") % {"problem": problem}]}}
                )
        if function.get("strict") is not None:
            if not isinstance(function["strict"], bool):
                raise serializers.ValidationError({index: {"function.strict": [_("Must be true or false.")]}})
            kept["strict"] = function["strict"]
        out.append({"type": "function", "function": kept})
    return out


def tool_choice(value, names: list[str]):
    """``"none"``, ``"auto"``, ``"required"`` or ``{"type": "function", "function": {"name"}}`` of
    one of the request's tools; only with tools (OpenAI's rule)."""
    if value is None or (value == "none" and not names):
        return None  # no tools, and none to be called: nothing to forward
    if not names:
        raise serializers.ValidationError(_("tool_choice is only allowed when tools are given."))
    if value in ("none", "auto", "required"):
        return value
    function = value.get("function") if isinstance(value, dict) else None
    if not isinstance(function, dict) or value.get("type") != "function":
        raise serializers.ValidationError(
            _('"none", "auto", "required" or {"type": "function", "function": {"name": ...}}.')
        )
    if function.get("name") not in names:
        raise serializers.ValidationError(_("The tool named here is not among tools."))
    return {"type": "function", "function": {"name": function["name"]}}


def logit_bias(value) -> dict | None:
    """Token ids (as strings, OpenAI's form) to a bias from -100 to 100."""
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > MAX_LOGIT_BIAS:
        raise serializers.ValidationError(
            _("An object of at most %(count)d token ids to biases.") % {"count": MAX_LOGIT_BIAS}
        )
    out = {}
    for token, bias in value.items():
        if not (isinstance(token, str) and TOKEN_ID.fullmatch(token)):
            raise serializers.ValidationError(_("Keys are token ids, as strings of digits."))
        if isinstance(bias, bool) or not isinstance(bias, int | float) or not -100 <= bias <= 100:
            raise serializers.ValidationError(_("Biases are numbers from -100 to 100."))
        out[token] = bias
    return out
