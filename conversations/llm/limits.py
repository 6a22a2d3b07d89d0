"""What an upstream says of a model's limits: its context window and its output limit, read when a
model is added (the admin's add form, ``manage.py model_add``) so that neither is guessed.

Two places say them, asked in this order:

- an OpenAI-compatible ``GET <base>/models``: the model's entry may carry ``context_length``
  (OpenRouter, LM Studio), ``max_model_len`` (vLLM) or ``context_window`` (Groq); and an output
  limit as ``max_completion_tokens``, ``max_output_tokens``, ``max_tokens`` or
  ``top_provider.max_completion_tokens``;
- llama.cpp's server, ``GET <root>/props`` (the base URL without its ``/v1``):
  ``default_generation_settings.n_ctx``, the context it was started with and serves, and
  ``...params.n_predict`` when it is positive. Its ``/models`` entry's ``meta.n_ctx_train`` (what
  the model was trained for, often more than the server was started with) is the last resort.

What neither says is None: the caller asks the operator for it. Synchronous (the admin and
commands are), short timeouts, never raises for an upstream that answers badly.
"""

from dataclasses import dataclass

import httpx

from .openai_provider import OpenAIProvider

TIMEOUT_SECONDS = 5.0
CONTEXT_KEYS = ("context_length", "max_model_len", "context_window", "max_context_length")
OUTPUT_KEYS = ("max_completion_tokens", "max_output_tokens", "max_tokens")


@dataclass(frozen=True)
class UpstreamLimits:
    context_window: int | None = None
    max_output_tokens: int | None = None
    # Where each came from, for the operator ("GET /models", "GET /props").
    context_source: str = ""
    output_source: str = ""
    # Why nothing could be read (the upstream did not answer), or "".
    problem: str = ""


def _positive(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and value >= 1:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and int(value) >= 1:
        return int(value)
    return None


def _first(entry: dict, keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = _positive(entry.get(key))
        if value is not None:
            return value
    return None


def _trained_context(entry: dict) -> int | None:
    meta = entry.get("meta")
    return _positive(meta.get("n_ctx_train")) if isinstance(meta, dict) else None


def _from_models_entry(entry: dict) -> tuple[int | None, int | None]:
    context = _first(entry, CONTEXT_KEYS)
    if context is None and isinstance(entry.get("top_provider"), dict):
        context = _positive(entry["top_provider"].get("context_length"))
    output = _first(entry, OUTPUT_KEYS)
    if output is None and isinstance(entry.get("top_provider"), dict):
        output = _positive(entry["top_provider"].get("max_completion_tokens"))
    return context, output


def _from_props(props: dict) -> tuple[int | None, int | None]:
    settings = props.get("default_generation_settings")
    settings = settings if isinstance(settings, dict) else {}
    context = _positive(settings.get("n_ctx")) or _positive(props.get("n_ctx"))
    params = settings.get("params") if isinstance(settings.get("params"), dict) else {}
    output = _positive(params.get("n_predict")) or _positive(settings.get("n_predict"))
    return context, output


def _root(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def _get_json(client: httpx.Client, url: str):
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        return None, f"{url}: {exc.__class__.__name__}"
    if response.status_code != 200:
        return None, f"{url}: HTTP {response.status_code}"
    try:
        return response.json(), ""
    except ValueError:
        return None, f"{url}: not JSON"


def upstream_limits(model, *, timeout: float = TIMEOUT_SECONDS) -> UpstreamLimits:
    """What the upstream of ``model`` (a saved or unsaved ``LLMModel``) says of its limits."""
    provider = OpenAIProvider(model)  # the same base URL and key as every request to it
    if not provider.base_url:
        return UpstreamLimits(problem="no base URL")
    headers = {"Authorization": f"Bearer {provider.api_key}"}
    context = output = trained = None
    context_source = output_source = ""
    problems = []
    with httpx.Client(timeout=timeout, headers=headers, follow_redirects=False) as client:
        listing, problem = _get_json(client, f"{provider.base_url.rstrip('/')}/models")
        if problem:
            problems.append(problem)
        entries = listing.get("data") if isinstance(listing, dict) else None
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and entry.get("id") == provider.model_name:
                context, output = _from_models_entry(entry)
                trained = _trained_context(entry)
                context_source = "GET /models" if context else ""
                output_source = "GET /models" if output else ""
                break
        if context is None or output is None:
            props, problem = _get_json(client, f"{_root(provider.base_url)}/props")
            if isinstance(props, dict):
                props_context, props_output = _from_props(props)
                if context is None and props_context:
                    context, context_source = props_context, "GET /props"
                if output is None and props_output:
                    output, output_source = props_output, "GET /props"
        if context is None and trained is not None:
            context, context_source = trained, "GET /models (trained context)"
        if context is not None and output is not None and output >= context:
            output, output_source = None, ""  # no room left for the prompt: not a limit to keep
    answered = not problems or context is not None or output is not None
    return UpstreamLimits(
        context_window=context,
        max_output_tokens=output,
        context_source=context_source,
        output_source=output_source,
        problem="" if answered else "; ".join(problems),
    )
