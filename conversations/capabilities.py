"""What a model can take beyond text, as listed on its catalog row (``LLMModel.capabilities``).

The one list of known capabilities: the model's ``clean()`` (the admin, ``manage.py model_add``, the
catalog import) refuses any other name, and the chat asks ``has_capability`` before it sends a
model anything but text.
"""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

VISION = "vision"  # images, as OpenAI ``image_url`` content parts
# ``response_format`` json_object and json_schema honoured (a grammar, or the upstream's own mode).
STRUCTURED_OUTPUT = "structured_output"
TOOLS = "tools"  # ``tools``/``tool_choice`` honoured: the model may answer with tool calls
LOGPROBS = "logprobs"  # ``logprobs``/``top_logprobs`` returned

KNOWN = (VISION, STRUCTURED_OUTPUT, TOOLS, LOGPROBS)
# What the embedded model's server (llama-cpp-python's) honours: a JSON schema becomes a grammar.
# Not logprobs: its server returns them only when started with logits_all (a logits row per token
# of the context, 400 MB for SmolLM2's 2,048); not tools: SmolLM2-135M does not call them reliably.
EMBEDDED = (STRUCTURED_OUTPUT,)


def capabilities_problem(value) -> str | None:
    """Why ``value`` is not a valid capabilities list, or None."""
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        return _('A list of capability names, e.g. ["vision", "tools"].')
    unknown = sorted({name for name in value if name not in KNOWN})
    if unknown:
        return ngettext(
            "Unknown capability: %(names)s (known: %(known)s).",
            "Unknown capabilities: %(names)s (known: %(known)s).",
            len(unknown),
        ) % {"names": ", ".join(unknown), "known": ", ".join(KNOWN)}
    return None


def capabilities_clean(value: list[str]) -> list[str]:
    """The list without repeats, in the order of ``KNOWN`` (so equal sets compare equal)."""
    return [name for name in KNOWN if name in value]


def has_capability(model, name: str) -> bool:
    return model is not None and name in (model.capabilities or [])
