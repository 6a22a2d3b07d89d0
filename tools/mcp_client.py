"""Talking to one MCP server over streamable HTTP, with the ``mcp`` SDK.

Each operation (list the tools, call one) opens its own connection and closes it: a reply's calls
are seconds apart, and a connection held across them would be one more thing a stop, a crash or a
restarted server leaves half-open. The SDK negotiates the protocol (``server/discover``, else the
older initialize handshake), so servers of either era answer.

Nothing here touches the database: the callers (``tools.toolbox``) read the row first and pass a
``ServerSpec``.
"""

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .headers import headers_resolve

if TYPE_CHECKING:
    import httpx2
    from mcp import Client

# Characters of a tool's description and of its parameter schema (as JSON) kept from a listing:
# a server's listing is sent to the model with every round, and is untrusted text.
DESCRIPTION_MAX_CHARS = 1000
SCHEMA_MAX_CHARS = 8000


class ServerDown(Exception):
    """The server could not be reached, refused us, or spoke no MCP: its message says which."""


@dataclass(frozen=True, slots=True)
class ServerSpec:
    name: str
    url: str
    headers: tuple  # the row's entries (tools.headers)
    timeout_seconds: float
    private: bool = False


@dataclass(frozen=True, slots=True)
class ToolResult:
    text: str
    is_error: bool


def _client(spec: ServerSpec, http: "httpx2.AsyncClient") -> "Client":
    # The SDK is imported when a server is first called: a web process whose chats call no tools
    # does not carry it (about 18 MB).
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    return Client(
        streamable_http_client(spec.url, http_client=http),
        read_timeout_seconds=spec.timeout_seconds,
        cache=None,  # a listing is cached by tools.toolbox, per process, for every reply
    )


def _headers(spec: ServerSpec) -> dict[str, str]:
    try:
        return headers_resolve(list(spec.headers))
    except ValueError as exc:
        raise ServerDown(str(exc)) from None


def _http(headers: dict[str, str], spec: ServerSpec) -> "httpx2.AsyncClient":
    import httpx2

    return httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(spec.timeout_seconds), follow_redirects=False)


def _reason(exc: BaseException, headers: dict[str, str]) -> str:
    """One line for a failure, however deep the SDK's task groups wrapped it, without the header
    values (an HTTP library may quote the one it refused): it reaches users as a notice."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    for value in headers.values():
        for shown in {value, repr(value.encode())[2:-1]}:
            if shown:
                text = text.replace(shown, "[header value]")
    return f"{exc.__class__.__name__}: {text}"[:300] if text else exc.__class__.__name__


def _listed(tool) -> dict:
    schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
    if len(json.dumps(schema)) > SCHEMA_MAX_CHARS:
        schema = {"type": "object"}
    return {
        "name": str(tool.name),
        "description": (tool.description or "")[:DESCRIPTION_MAX_CHARS],
        "input_schema": schema or {"type": "object"},
    }


async def tools_list(spec: ServerSpec) -> list[dict]:
    """The server's tools: [{name, description, input_schema}]. ServerDown when it cannot say."""
    headers = _headers(spec)
    try:
        async with _http(headers, spec) as http, _client(spec, http) as client:
            tools, cursor = [], None
            while True:
                page = await client.list_tools(cursor=cursor)
                tools += [_listed(tool) for tool in page.tools]
                cursor = page.next_cursor
                if not cursor or len(tools) > 200:
                    return tools[:200]
    except Exception as exc:
        raise ServerDown(_reason(exc, headers)) from exc


def _text(result) -> str:
    """A call's result as text for the model: its text parts; else its structured content as JSON;
    other parts (images, audio, resources) by their kind only."""
    parts = []
    for block in result.content or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource" and hasattr(getattr(block, "resource", None), "text"):
            parts.append(block.resource.text)
        else:
            parts.append(f"[{kind or 'content'}]")
    if not any(part.strip() for part in parts) and result.structured_content is not None:
        return json.dumps(result.structured_content, ensure_ascii=False)
    return "\n".join(parts)


async def tool_call(spec: ServerSpec, name: str, arguments: dict) -> ToolResult:
    """Call ``name`` with ``arguments``; the server's own failure is a result with ``is_error``
    (the model reads it), a transport failure is ServerDown. Timeouts are the caller's."""
    headers = _headers(spec)
    try:
        async with _http(headers, spec) as http, _client(spec, http) as client:
            result = await client.call_tool(name, arguments)
    except Exception as exc:
        raise ServerDown(_reason(exc, headers)) from exc
    return ToolResult(_text(result), bool(result.is_error))
