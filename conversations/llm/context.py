"""Build the message list sent to a model: system prompt (with collector context), then as much
recent history as fits the context window, oldest turns dropped first."""

from collections.abc import Callable

# Per-message overhead of chat templates (role markers, separators), in tokens.
MESSAGE_OVERHEAD_TOKENS = 4
CONTEXT_ITEM_MAX_CHARS = 4000


def estimate_tokens(text: str) -> int:
    """About four characters per token: good enough to stay inside an upstream's window."""
    return len(text) // 4 + 1


def context_items_text(items) -> str:
    parts = []
    for item in items:
        body = (getattr(item, "content", "") or "").strip() or (getattr(item, "url", "") or "").strip()
        title = (getattr(item, "title", "") or "").strip()
        if not (title or body):
            continue
        parts.append(f"### {title}\n{body[:CONTEXT_ITEM_MAX_CHARS]}".strip())
    return "\n\n".join(parts)


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


def build_messages(
    *,
    system_prompt: str,
    context_text: str,
    history: list[dict],
    context_window: int,
    max_output_tokens: int,
    count: Callable[[str], int] = estimate_tokens,
) -> tuple[list[dict], int]:
    """Return (messages, max_tokens) fitting ``context_window``.

    ``history`` is oldest first and ends with the user's new message, which is always kept (cut
    from its start if it alone is too long). The answer's room shrinks before any history goes, but
    never below a quarter of ``max_output_tokens``.
    """
    max_tokens = max(1, min(max_output_tokens, context_window // 2))
    budget = context_window - max_tokens

    system = system_prompt.strip()
    messages_cost = 0
    system_msg = None
    if system or context_text:
        if context_text:
            # Context may use at most half of the room left, so the conversation itself still fits.
            allowed = max(0, budget // 2 - count(system) - MESSAGE_OVERHEAD_TOKENS)
            context_text = _truncate_to_tokens(context_text, allowed, count)
            if context_text:
                system = (system + "\n\n" if system else "") + (
                    "Use these notes from the user's collection when they help:\n\n" + context_text
                )
        system_msg = {"role": "system", "content": system}
        messages_cost += count(system) + MESSAGE_OVERHEAD_TOKENS

    kept: list[dict] = []
    for message in reversed(history):
        cost = count(message["content"]) + MESSAGE_OVERHEAD_TOKENS
        if messages_cost + cost > budget:
            if not kept:
                room = budget - messages_cost - MESSAGE_OVERHEAD_TOKENS
                content = message["content"]
                # Keep the end of an over-long question: that is usually where the ask is.
                tail = _truncate_to_tokens(content[::-1], room, count)[::-1]
                kept.append({"role": message["role"], "content": tail or content[-16:]})
            break
        kept.append(message)
        messages_cost += cost
    kept.reverse()
    # Models expect the history to start with a user turn after the system prompt.
    while len(kept) > 1 and kept[0]["role"] != "user":
        kept.pop(0)
    return ([system_msg] if system_msg else []) + kept, max_tokens
