"""Build the message list sent to a model: system prompt (with the numbered sources the reply may
cite), then as much recent history as fits the context window, oldest turns dropped first.

A message's content is a string, or (a user message with images, for a vision model) a list of
OpenAI content parts: its text parts are counted and cut like a string, each image costs
``IMAGE_TOKENS``."""

from collections.abc import Callable

from core.tokens import estimate_tokens

from ..images import content_text, image_count

# Per-message overhead of chat templates (role markers, separators), in tokens.
MESSAGE_OVERHEAD_TOKENS = 4
# What an image of at most 1568 pixels a side costs a vision model, about (OpenAI: 765 to 1105
# for "high" detail; Anthropic: width x height / 750, 1,600 for 1092 x 1092).
IMAGE_TOKENS = 1600


def content_tokens(content, count: Callable[[str], int] = estimate_tokens) -> int:
    return count(content_text(content)) + IMAGE_TOKENS * image_count(content)


def _with_text(content, text: str):
    """``content`` with its text replaced by ``text`` (its images kept)."""
    if isinstance(content, str):
        return text
    return [{"type": "text", "text": text}, *(part for part in content if part.get("type") != "text")]


def _truncate_to_tokens(text: str, budget: int, count: Callable[[str], int]) -> str:
    if budget <= 0:
        return ""
    if count(text) <= budget:
        return text
    # Binary search on characters: tokenizers are not linear, but monotone enough.
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(text[:mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


# The user turn that makes a model go on with its reply cut at the output limit, which the history
# ends with (``services.reply_continue``). A trailing assistant turn alone is taken as the start
# of the answer by some servers (llama.cpp's llama-server, vLLM with continue_final_message), but
# not by others: OpenAI and llama-cpp-python's server (the embedded model's) close it and start
# a new answer. An explicit request works on every OpenAI-compatible upstream, so it is always sent.
CONTINUE_INSTRUCTION = (
    "Your last reply was cut off at the length limit. Continue it exactly where it stopped, in the "
    "same language and format: do not repeat anything already written, and add no preamble."
)

SOURCE_START = "\n<source n="
SOURCES_END = "\n</sources>"


def _fit_context(text: str, budget: int, count: Callable[[str], int]) -> str:
    """``text`` within ``budget``: a sources block (``grounding.sources_block``) loses whole sources
    from its end, and keeps its closing tag (a cut mid-source would leave the block open, and
    what follows would read as part of a document); other text is cut at the budget."""
    if count(text) <= budget:
        return text
    if not text.endswith(SOURCES_END) or SOURCE_START not in text:
        return _truncate_to_tokens(text, budget, count)
    head, *entries = text[: -len(SOURCES_END)].split(SOURCE_START)
    while entries:
        entries.pop()
        fitted = head + "".join(SOURCE_START + entry for entry in entries) + SOURCES_END
        if entries and count(fitted) <= budget:
            return fitted
    return ""


def _calls_tokens(turn: dict, count: Callable[[str], int]) -> int:
    """What a past reply's tool calls add when they are sent again (arguments and results)."""
    calls = [call for call in turn.get("tool_calls") or () if isinstance(call, dict)]
    return sum(
        count(str((call.get("function") or {}).get("arguments", "")) + (call.get("result") or call.get("error") or ""))
        + MESSAGE_OVERHEAD_TOKENS
        for call in calls
    )


def reply_room(*, context_window: int, max_output_tokens: int) -> int:
    """What an app reply keeps of the window for its answer: the model's output limit, at most
    half the window (the one rule: the history sent, the sources' budget and a question's check)."""
    return max(1, min(max_output_tokens, context_window // 2))


def build_messages(
    *,
    system_prompt: str,
    context_text: str,
    history: list[dict],
    context_window: int,
    max_output_tokens: int,
    count: Callable[[str], int] = estimate_tokens,
    continuation: bool = False,
) -> tuple[list[dict], int]:
    """Return (messages, max_tokens) fitting ``context_window``.

    ``history`` is oldest first and ends with the user's new message, which is always kept (cut
    from its start if it alone is too long). The answer's room shrinks before any history goes, but
    never below a quarter of ``max_output_tokens``.

    ``continuation``: ``history`` ends with the reply to go on with (kept like a new message, its
    end when too long), and ``CONTINUE_INSTRUCTION`` follows it as the last user turn.
    """
    max_tokens = reply_room(context_window=context_window, max_output_tokens=max_output_tokens)
    budget = context_window - max_tokens
    follow_up = [{"role": "user", "content": CONTINUE_INSTRUCTION}] if continuation else []
    # Its room is kept first: without it the model would answer the question again.
    budget -= sum(count(turn["content"]) + MESSAGE_OVERHEAD_TOKENS for turn in follow_up)

    system = system_prompt.strip()
    messages_cost = 0
    system_msg = None
    if system or context_text:
        if context_text:
            # Context may use at most half of the room left, so the conversation itself still fits.
            allowed = max(0, budget // 2 - count(system) - MESSAGE_OVERHEAD_TOKENS)
            context_text = _fit_context(context_text, allowed, count)
            if context_text:
                system = (system + "\n\n" if system else "") + context_text
        system_msg = {"role": "system", "content": system}
        messages_cost += count(system) + MESSAGE_OVERHEAD_TOKENS

    kept: list[dict] = []
    for message in reversed(history):
        cost = content_tokens(message["content"], count) + MESSAGE_OVERHEAD_TOKENS + _calls_tokens(message, count)
        if messages_cost + cost > budget:
            if not kept:
                content = message["content"]
                room = budget - messages_cost - MESSAGE_OVERHEAD_TOKENS - IMAGE_TOKENS * image_count(content)
                text = content_text(content)
                # Keep the end of an over-long question: that is usually where the ask is.
                tail = _truncate_to_tokens(text[::-1], room, count)[::-1]
                kept.append({"role": message["role"], "content": _with_text(content, tail or text[-16:])})
            break
        kept.append(message)
        messages_cost += cost
    kept.reverse()
    # Models expect the history to start with a user turn after the system prompt.
    while len(kept) > 1 and kept[0]["role"] != "user":
        kept.pop(0)
    return ([system_msg] if system_msg else []) + kept + follow_up, max_tokens
