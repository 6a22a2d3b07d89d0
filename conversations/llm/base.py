"""The one interface every provider implements: an async stream of text deltas, then usage."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class Delta:
    """A piece of the reply. The last item of a stream carries ``usage`` (and usually no text)."""

    text: str = ""
    usage: Usage | None = None
    # Why the model stopped ("stop", "length", "tool_calls"...), on the last item, when the upstream said.
    finish_reason: str = ""
    # OpenAI's ``logprobs.content`` entries of this piece's tokens, when they were asked for.
    logprobs: list | None = None
    # On the last item: the tool calls the model made, whole ({id, type, function: {name, arguments}}).
    tool_calls: list[dict] | None = None


class ProviderError(Exception):
    """A failure a user can be told about. ``code`` is stable (clients branch on it)."""

    def __init__(self, message: str, *, code: str = "upstream_error", retryable: bool = False):
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class Provider(Protocol):
    # Number of tokens a chat message list costs, used to trim history to the context window.
    def count_tokens(self, text: str) -> int: ...

    def stream(
        self,
        messages: list[dict],
        *,
        max_tokens: int,
        temperature: float,
        stop: list[str] | None = None,
        extra: dict | None = None,
    ) -> AsyncIterator[Delta]: ...

    async def check(self) -> None: ...

    # Tokens a chat (``messages`` as sent) costs, as the model counts it: its tokenizer where the
    # upstream has one, else a conservative estimate. Never raises.
    async def count_prompt(self, messages: list[dict]) -> int: ...

    # The same, blocking: for a synchronous caller outside any transaction.
    def count_prompt_sync(self, messages: list[dict]) -> int: ...

    # A conservative count of ``messages`` without asking anyone (never less than ``count_prompt``).
    def estimate_prompt(self, messages: list[dict]) -> int: ...

    # Tokens of a reply's ``text`` streamed in ``chunks`` pieces, when the upstream did not say.
    async def count_completion(self, text: str, *, chunks: int) -> int: ...

    # A count of text for trimming a history to ``budget`` (``texts``: what to count first, exactly).
    async def counter(self, texts: list[str], *, budget: int) -> Callable[[str], int]: ...
