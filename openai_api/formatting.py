"""OpenAI's response objects: ``chat.completion``, ``chat.completion.chunk`` and the model list."""

import json
import time

from conversations.streaming.events import Done


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def finish_reason(done: Done) -> str:
    # As the upstream said ("length", "tool_calls"...); a stopped reply ended at the user's request.
    return done.finish_reason if done.finish_reason in ("length", "tool_calls", "content_filter") else "stop"


def _logprobs(content: list[dict] | None) -> dict | None:
    return None if content is None else {"content": content, "refusal": None}


def usage(done: Done) -> dict:
    prompt, completion = done.usage.prompt_tokens, done.usage.completion_tokens
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class Completion:
    """The shapes of one completion (its id is the reply's)."""

    def __init__(self, *, reply_id, model: str, include_usage: bool = False):
        self.id = f"chatcmpl-{reply_id.hex}"
        self.model = model
        self.created = int(time.time())
        self.include_usage = include_usage

    def _chunk(self, choices: list, **extra) -> bytes:
        body = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": choices,
            **extra,
        }
        if self.include_usage:
            body.setdefault("usage", None)  # as OpenAI: null on every chunk but the last
        return f"data: {_compact(body)}\n\n".encode()

    def chunk(
        self,
        *,
        content: str | None = None,
        role: str | None = None,
        finish: str | None = None,
        tool_calls: list[dict] | None = None,
        logprobs: list[dict] | None = None,
    ) -> bytes:
        delta = {}
        if role:
            delta["role"] = role
        if content is not None:
            delta["content"] = content
        if tool_calls:
            # Each call whole in one delta, with its index: what OpenAI's SDKs put together.
            delta["tool_calls"] = [{"index": index, **call} for index, call in enumerate(tool_calls)]
        return self._chunk([{"index": 0, "delta": delta, "logprobs": _logprobs(logprobs), "finish_reason": finish}])

    def usage_chunk(self, done: Done) -> bytes:
        return self._chunk([], usage=usage(done))

    @staticmethod
    def error_chunk(error: dict) -> bytes:
        return f"data: {_compact({'error': error})}\n\n".encode()

    def whole(self, text: str, done: Done, *, tool_calls: list[dict] | None = None, logprobs=None) -> dict:
        message = {"role": "assistant", "content": text if text or not tool_calls else None, "refusal": None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": _logprobs(logprobs),
                    "finish_reason": finish_reason(done),
                }
            ],
            "usage": usage(done),
        }


def model_object(model) -> dict:
    """One catalog model as OpenAI's ``model`` object (``/v1/models/{id}``)."""
    return {
        "id": model.slug,
        "object": "model",
        "created": int(model.created_at.timestamp()),
        "owned_by": "system",
        "capabilities": list(model.capabilities or []),
    }


def model_list(models, *, embedding: dict | None = None) -> dict:
    """The chat models, then the embedding model's object (``openai_api.embeddings``) if any."""
    data = [model_object(model) for model in models]
    if embedding is not None:
        data.append(embedding)
    return {"object": "list", "data": data}
