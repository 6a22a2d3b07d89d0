"""The model's context window, checked before any upstream call and before anything is charged.

- An OpenAI-compatible request (``/v1``) is never cut: its prompt, counted as its model counts it
  (``Provider.count_prompt``), and the room asked for its completion must fit the window, else a
  400 ``context_length_exceeded`` in OpenAI's words. A ``max_tokens`` over the model's output limit
  is refused too (not clamped); without one the room is what the window has left, at most the
  model's output limit. The count is an HTTP call to the model's tokenizer: the caller makes it
  outside any transaction (``api_fit_counted``), and ``api_completion_start`` checks again with
  the count it is given (``api_fit``: arithmetic only).
- The app owns its history and drops its oldest turns to fit (``llm.context.build_messages``), but
  a new question that cannot fit alone, with the system prompt and room for an answer, is refused
  (``question_check`` inside the transaction, by the estimate; ``CountNeeded`` when the model's
  tokenizer must decide, which the caller asks outside the transaction).
"""

from dataclasses import dataclass

from django.db import connection
from django.utils.translation import gettext as _

from core.exceptions import DomainError

from .llm import context, get_provider
from .llm.tokens import api_messages, definitions_tokens
from .models import LLMModel


class WindowRefused(DomainError):
    """A request that does not fit the model (400); ``param`` names what to change."""

    param = ""

    def __init__(self, detail: str, *, param: str, code: str | None = None):
        super().__init__(detail, code=code)
        self.param = param


class ContextLengthExceeded(WindowRefused):
    code = "context_length_exceeded"


class MaxTokensTooLarge(WindowRefused):
    code = "invalid_value"


@dataclass(frozen=True, slots=True)
class Fit:
    prompt_tokens: int  # the prompt as the model counts it (or the conservative estimate)
    max_tokens: int  # the completion's room


def api_fit(*, model: LLMModel, prompt_tokens: int, max_tokens: int | None, param: str = "max_tokens") -> Fit:
    """The completion's room for a request of ``prompt_tokens`` asking ``max_tokens`` (None: not
    given) of ``model``, or the refusal OpenAI's API gives. ``param``: the name the client used."""
    window, limit = model.context_window, model.max_output_tokens
    if max_tokens is not None and max_tokens > limit:
        raise MaxTokensTooLarge(
            _(
                "%(param)s is too large: %(requested)d. This model supports at most %(limit)d completion tokens, "
                "whereas you provided %(requested)d."
            )
            % {"param": param, "requested": max_tokens, "limit": limit},
            param=param,
        )
    if max_tokens is None:
        room = min(limit, window - prompt_tokens)
        if room < 1:
            raise ContextLengthExceeded(
                _(
                    "This model's maximum context length is %(window)d tokens. However, your messages resulted in "
                    "%(prompt)d tokens. Please reduce the length of the messages."
                )
                % {"window": window, "prompt": prompt_tokens},
                param="messages",
            )
        return Fit(prompt_tokens, room)
    if prompt_tokens + max_tokens > window:
        raise ContextLengthExceeded(
            _(
                "This model's maximum context length is %(window)d tokens. However, you requested %(total)d tokens "
                "(%(prompt)d in the messages, %(completion)d in the completion). Please reduce the length of the "
                "messages or completion."
            )
            % {
                "window": window,
                "total": prompt_tokens + max_tokens,
                "prompt": prompt_tokens,
                "completion": max_tokens,
            },
            param="messages",
        )
    return Fit(prompt_tokens, max_tokens)


async def api_fit_counted(
    *,
    model: LLMModel,
    system: str,
    turns: list[dict],
    max_tokens: int | None,
    param: str = "max_tokens",
    upstream: dict | None = None,
) -> Fit:
    """``api_fit`` of a request's prompt counted by its model's tokenizer (an HTTP call: call it
    outside any transaction), or its estimate when there is none; its tool definitions and
    response schema (``upstream``) count too."""
    prompt_tokens = await get_provider(model).count_prompt(api_messages(system, turns))
    prompt_tokens += definitions_tokens(upstream or {})
    return api_fit(model=model, prompt_tokens=prompt_tokens, max_tokens=max_tokens, param=param)


def api_estimate(*, model: LLMModel, system: str, turns: list[dict], upstream: dict | None = None) -> int:
    """A request's prompt, estimated (no call to anyone): for a caller that did not count it. The
    same parts as ``api_fit_counted`` counts (its tool definitions and schema too)."""
    return get_provider(model).estimate_prompt(api_messages(system, turns)) + definitions_tokens(upstream or {})


# --- the app's questions --------------------------------------------------------------------------


def reply_room(model: LLMModel) -> int:
    """What the app keeps for a reply (``build_messages``' rule)."""
    return context.reply_room(context_window=model.context_window, max_output_tokens=model.max_output_tokens)


@dataclass(frozen=True, slots=True)
class Counted:
    """A question's prompt (the system prompt and the question alone), counted for ``model_id``."""

    model_id: int
    system: str
    question: str
    tokens: int


class CountNeeded(Exception):  # noqa: N818 (a request to the caller, not an error)
    """The estimate says a question may not fit: its caller counts it with the model's tokenizer
    outside the transaction (``counted``) and sends it again with the count."""

    def __init__(self, *, model: LLMModel, system: str, question: str):
        super().__init__("count the question with the model's tokenizer")
        self.model, self.system, self.question = model, system, question

    def counted(self) -> Counted:
        """The count, by the model's tokenizer unless inside a transaction (an outer one: then the
        estimate, as no HTTP call is made inside a transaction)."""
        messages = _question_messages(self.system, self.question)
        provider = get_provider(self.model)
        if connection.in_atomic_block:
            tokens = provider.estimate_prompt(messages)
        else:
            tokens = provider.count_prompt_sync(messages)
        return Counted(self.model.pk, self.system, self.question, tokens)


def _question_messages(system: str, question: str) -> list[dict]:
    return api_messages(system, [{"role": "user", "content": question}])


def question_check(*, model: LLMModel, system: str, question: str, counted: Counted | None = None) -> None:
    """Refuse (400 ``context_length_exceeded``, naming ``content``) a question that cannot fit
    ``model``'s window alone, with ``system`` and room for an answer. Counted by the estimate
    (never less than the model's count, no call to anyone); when that does not fit and no
    ``counted`` was given, ``CountNeeded`` asks the caller for the model's count, made outside the
    transaction; with ``counted`` (for another model or text: the estimate again) it decides."""
    room = reply_room(model)
    if counted is None or (counted.model_id, counted.system, counted.question) != (model.pk, system, question):
        estimate = get_provider(model).estimate_prompt(_question_messages(system, question))
        if estimate + room <= model.context_window:
            return
        if counted is None:
            raise CountNeeded(model=model, system=system, question=question)
        counted = Counted(model.pk, system, question, estimate)
    if counted.tokens + room > model.context_window:
        raise ContextLengthExceeded(
            _(
                "Your message is too long for %(model)s: with the chat's instructions it takes about %(tokens)d "
                "tokens, and the model reads at most %(window)d, %(room)d of them kept for its answer. Shorten "
                "the message or send it in parts."
            )
            % {"model": model.display_name, "tokens": counted.tokens, "window": model.context_window, "room": room},
            param="content",
        )
