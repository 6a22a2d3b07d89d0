"""A chat's prompt counted as its model counts it.

- The embedded model (provider ``local``, llama-cpp-python's server) has its tokenizer behind
  ``POST <root>/extras/tokenize/count`` (``<root>``: the base URL without ``/v1``), which tokenizes
  with ``special=True``: the chat rendered in SmolLM2's template (ChatML, with the template's own
  system prompt when the chat has none, and the assistant turn it opens for the reply) counts
  exactly what the model reads.
- Elsewhere, and whenever the tokenizer does not answer in time, a conservative estimate:
  ``core.tokens.estimate_tokens`` per message plus the template's markers. Never an error.

The tokenizer waits for the model server's one lock, which a reply being generated holds: a count
asked while the model writes to someone else waits for that reply, so every call is bounded by a
short timeout and falls back to the estimate.
"""

import json
import logging
from collections.abc import Callable

import httpx

from core.tokens import estimate_tokens

from ..images import content_text
from .base import ProviderError
from .context import MESSAGE_OVERHEAD_TOKENS, content_tokens

logger = logging.getLogger(__name__)

# What a chat template adds once, after the last message: the opened assistant turn (ChatML's
# ``<|im_start|>assistant\n`` is three tokens; OpenAI counts three for it too).
REPLY_PRIMING_TOKENS = 3
# SmolLM2-Instruct's chat template adds this system turn to a chat that has none.
SMOLLM2_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
# How long a count may wait for the tokenizer (it shares the model's lock with generation).
TOKENIZER_TIMEOUT_SECONDS = 3.0


def chatml(messages: list[dict], *, default_system: str = SMOLLM2_DEFAULT_SYSTEM) -> str:
    """``messages`` as SmolLM2's template renders them for a reply (text parts only)."""
    parts = []
    if not messages or messages[0]["role"] != "system":
        parts.append(f"<|im_start|>system\n{default_system}<|im_end|>\n")
    for message in messages:
        parts.append(f"<|im_start|>{message['role']}\n{content_text(message['content'])}<|im_end|>\n")
    parts.append("<|im_start|>assistant\n")
    return "".join(parts)


def estimate_prompt(messages: list[dict]) -> int:
    """A conservative count of ``messages`` for any chat template: each message's content (its
    images at ``IMAGE_TOKENS``) and markers, and the reply's opening."""
    return sum(_message_tokens(m) for m in messages) + REPLY_PRIMING_TOKENS


def _message_tokens(message: dict) -> int:
    cost = content_tokens(message["content"] or "") + MESSAGE_OVERHEAD_TOKENS
    if message.get("tool_calls"):  # an assistant turn's calls are read by the model too
        cost += estimate_tokens(json.dumps(message["tool_calls"], ensure_ascii=False))
    return cost


def definitions_tokens(upstream: dict) -> int:
    """What a request's tool definitions and response schema add to its prompt (a template writes
    them into it), estimated: an upstream with tools has no tokenizer of ours."""
    said = {name: upstream[name] for name in ("tools", "response_format") if upstream.get(name)}
    return estimate_tokens(json.dumps(said, ensure_ascii=False)) if said else 0


def api_messages(system: str, turns: list[dict]) -> list[dict]:
    """What an OpenAI-compatible request sends its model, as it came: its system (and developer)
    text as one system message (none when blank), then its turns. The window check counts this
    list and the runner sends it, so what is counted is what is sent."""
    return ([{"role": "system", "content": system}] if system.strip() else []) + list(turns)


def tokenizer_root(base_url: str) -> str:
    """llama-cpp-python's server root (its ``/extras/...`` routes), from its OpenAI base URL."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


class Tokenizer:
    """llama-cpp-python's ``/extras/tokenize/count``: ``count`` (blocking) and ``acount``; both
    answer None when the server does not answer well within ``timeout``."""

    def __init__(self, *, base_url: str, model: str, api_key: str = "", timeout: float = TOKENIZER_TIMEOUT_SECONDS):
        self.url = f"{tokenizer_root(base_url)}/extras/tokenize/count"
        self.model = model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = timeout

    def _read(self, response: httpx.Response) -> int | None:
        if response.status_code != 200:
            logger.info("tokenizer at %s answered HTTP %s", self.url, response.status_code)
            return None
        count = response.json().get("count")
        return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None

    def count(self, text: str, *, timeout: float | None = None) -> int | None:
        try:
            response = httpx.post(
                self.url,
                json={"model": self.model, "input": text},
                headers=self.headers,
                timeout=timeout or self.timeout,
            )
            return self._read(response)
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            logger.info("tokenizer at %s failed: %s", self.url, exc)
            return None

    async def acount(self, text: str, *, timeout: float | None = None) -> int | None:
        try:
            async with httpx.AsyncClient(timeout=timeout or self.timeout) as client:
                response = await client.post(self.url, json={"model": self.model, "input": text}, headers=self.headers)
            return self._read(response)
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            logger.info("tokenizer at %s failed: %s", self.url, exc)
            return None


# Texts of a history counted one by one by the tokenizer at most, before a reply.
COUNTED_TEXTS_MAX = 64
# How long the count of a reply's text may wait at its end (the reply's end waits for it).
COMPLETION_COUNT_TIMEOUT_SECONDS = 0.5


class UsageCount:
    """A reply's usage when the upstream does not report it (llama-cpp-python's server never does):
    the prompt counted by the model's tokenizer just before the reply is asked for (the tokenizer
    takes its turn at the model's lock ahead of the reply, which would wait for it anyway), the
    reply's text counted at its end, briefly (the reply's end waits for it), else its chunks.
    Without a tokenizer: the estimate and the chunks."""

    def __init__(self, provider: "TokenCounting", messages: list[dict]):
        self.provider = provider
        self.messages = messages
        self.prompt: int | None = None

    async def begin(self, *, timeout: float) -> None:
        tokenizer = self.provider.tokenizer
        if tokenizer is not None:
            self.prompt = await tokenizer.acount(self.provider.rendered(self.messages), timeout=timeout)

    async def usage(self, text: str, *, chunks: int) -> tuple[int, int]:
        prompt = self.prompt if self.prompt is not None else self.provider.estimate_prompt(self.messages)
        return prompt, await self.provider.count_completion(text, chunks=chunks)


class TokenCounting:
    """The counting methods of ``Provider`` for an OpenAI-compatible upstream: with the model's
    tokenizer when it is the embedded model (``local``), else estimated. Needs ``local``,
    ``base_url``, ``model_name`` and ``api_key`` on the provider."""

    local: bool
    base_url: str | None
    model_name: str
    api_key: str

    @property
    def tokenizer(self) -> Tokenizer | None:
        if not self.local or not self.base_url:
            return None
        try:
            key = self.api_key if self.api_key != "not-needed" else ""
        except ProviderError:  # a key variable the rules refuse: the estimate, and the reply says why
            return None
        return Tokenizer(base_url=self.base_url, model=self.model_name, api_key=key)

    def rendered(self, messages: list[dict]) -> str:
        return chatml(messages)

    def estimate_prompt(self, messages: list[dict]) -> int:
        if self.local:  # the template as rendered, estimated: its markers cost more than they count
            return estimate_tokens(self.rendered(messages))
        return estimate_prompt(messages)

    async def count_prompt(self, messages: list[dict]) -> int:
        tokenizer = self.tokenizer
        counted = await tokenizer.acount(self.rendered(messages)) if tokenizer is not None else None
        return counted if counted is not None else self.estimate_prompt(messages)

    def count_prompt_sync(self, messages: list[dict]) -> int:
        tokenizer = self.tokenizer
        counted = tokenizer.count(self.rendered(messages)) if tokenizer is not None else None
        return counted if counted is not None else self.estimate_prompt(messages)

    async def count_completion(self, text: str, *, chunks: int) -> int:
        tokenizer = self.tokenizer
        if tokenizer is not None and text:
            counted = await tokenizer.acount(text, timeout=COMPLETION_COUNT_TIMEOUT_SECONDS)
            if counted is not None:
                return counted
        return chunks

    def usage_count(self, messages: list[dict]) -> UsageCount:
        return UsageCount(self, messages)

    async def counter(self, texts: list[str], *, budget: int) -> Callable[[str], int]:
        """A count of text for trimming a history (``build_messages``): ``texts`` (the system prompt,
        then the history newest first) counted by the model's tokenizer until they fill ``budget``
        tokens, any other text (a cut piece, an older turn) by the estimate. Without a tokenizer,
        or once it does not answer, the estimate."""
        tokenizer = self.tokenizer
        known: dict[str, int] = {}
        if tokenizer is not None:
            total = 0
            for text in texts[:COUNTED_TEXTS_MAX]:
                if total > budget:
                    break
                if text in known:
                    continue
                counted = await tokenizer.acount(text)
                if counted is None:
                    break
                known[text] = counted
                total += counted

        def count(text: str) -> int:
            counted = known.get(text)
            return estimate_tokens(text) if counted is None else counted

        return count
