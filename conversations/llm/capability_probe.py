"""What an upstream says its model honours, for "Test connection" to fill in the catalog row's
``capabilities`` (``conversations.capabilities``). Asked, in this order, and merged:

- the embedded model's server (provider ``local``): what llama-cpp-python's server honours
  (``capabilities.EMBEDDED``);
- ``GET <base>/models``: the model's entry's ``supported_parameters`` (OpenRouter: ``tools``,
  ``structured_outputs``/``response_format``, ``logprobs``) or ``capabilities`` (a list, as LM
  Studio and Ollama write it, or an object of flags);
- llama.cpp's server, ``GET <root>/props``: it always honours JSON schemas and logprobs
  (``n_probs``); tools when its chat template says so (``chat_template_caps``), images when its
  ``modalities`` do;
- Ollama, ``POST <root>/api/show``: its ``capabilities`` list.

Only what an upstream says is added; nothing is taken away (staff may know better). Synchronous,
short timeouts, never raises for an upstream that answers badly.
"""

import httpx

from .. import capabilities as caps
from .base import ProviderError
from .limits import TIMEOUT_SECONDS, _get_json, _root
from .openai_provider import OpenAIProvider

# The names upstreams use, to ours.
_NAMES = {
    "tools": caps.TOOLS,
    "tool_use": caps.TOOLS,
    "tool_calling": caps.TOOLS,
    "function_calling": caps.TOOLS,
    "supports_tools": caps.TOOLS,
    "supports_tool_calls": caps.TOOLS,
    "structured_outputs": caps.STRUCTURED_OUTPUT,
    "structured_output": caps.STRUCTURED_OUTPUT,
    "response_format": caps.STRUCTURED_OUTPUT,
    "json_mode": caps.STRUCTURED_OUTPUT,
    "json_schema": caps.STRUCTURED_OUTPUT,
    "logprobs": caps.LOGPROBS,
    "top_logprobs": caps.LOGPROBS,
    "vision": caps.VISION,
    "image_input": caps.VISION,
}


def _named(values) -> set[str]:
    if isinstance(values, dict):  # {"function_calling": true, "vision": false}
        values = [name for name, flag in values.items() if flag is True]
    if not isinstance(values, list):
        return set()
    return {_NAMES[value.lower()] for value in values if isinstance(value, str) and value.lower() in _NAMES}


def _from_props(props: dict) -> set[str]:
    if not isinstance(props.get("default_generation_settings"), dict):
        return set()  # not llama.cpp's server
    said = {caps.STRUCTURED_OUTPUT, caps.LOGPROBS}
    said |= _named(props.get("chat_template_caps"))
    modalities = props.get("modalities")
    if isinstance(modalities, dict) and modalities.get("vision") is True:
        said.add(caps.VISION)
    return said


def upstream_capabilities(model, *, timeout: float = TIMEOUT_SECONDS) -> tuple[list[str], str]:
    """(capabilities the upstream of ``model`` says it honours, in ``KNOWN`` order; where it said them)."""
    if model.provider == "local":
        return list(caps.EMBEDDED), "the embedded model's server"
    provider = OpenAIProvider(model)
    if not provider.base_url:
        return [], ""
    said: set[str] = set()
    sources = []
    try:
        headers = {"Authorization": f"Bearer {provider.api_key}"}
    except ProviderError:  # a key variable the rules refuse: nothing is asked with it
        return [], ""
    with httpx.Client(timeout=timeout, headers=headers, follow_redirects=False) as client:
        listing, _problem = _get_json(client, f"{provider.base_url.rstrip('/')}/models")
        entries = listing.get("data") if isinstance(listing, dict) else None
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and entry.get("id") == provider.model_name:
                found = _named(entry.get("supported_parameters")) | _named(entry.get("capabilities"))
                if found:
                    said |= found
                    sources.append("GET /models")
        props, _problem = _get_json(client, f"{_root(provider.base_url)}/props")
        if isinstance(props, dict) and (found := _from_props(props)):
            said |= found
            sources.append("GET /props")
        if not said:
            try:
                response = client.post(f"{_root(provider.base_url)}/api/show", json={"model": provider.model_name})
                shown = response.json() if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                shown = None
            if isinstance(shown, dict) and (found := _named(shown.get("capabilities"))):
                said |= found
                sources.append("POST /api/show")
    return caps.capabilities_clean(sorted(said)), ", ".join(sources)
