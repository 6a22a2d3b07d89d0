"""What a reply's tools, sources and notices become in a share or a sample (and in a clone of one).

A share shows that tools were used: each call the server ran (``Message.tool_calls`` entries with a
``status``; a ``/v1`` request's own calls have none and are left out) with its tool, arguments,
status and result. A tool server the operator marks private shows its calls, never what they
returned: such a call's ``result`` is null, its ``error`` empty and ``result_hidden`` true. Which
servers are private is read when the share is made (so the snapshot never holds their results)
and again each time it is read or cloned (a server made private later hides its results from then
on). A call whose entry says ``"private": true`` (the server was private when it ran) is hidden too.

A web source keeps its page's address (``url``) when it is an http or https one, never anything a
browser would run (``javascript:``, ``data:``...).
"""

import json
from urllib.parse import urlsplit

from tools.selectors import private_server_names

URL_MAX_CHARS = 2000
FUNCTION_NAME_MAX = 64  # OpenAI's function names: [a-zA-Z0-9_-]{1,64}
# What a snapshot keeps of a call: the reader's fields, and OpenAI's form of it (``type``,
# ``function``: not shown, kept so a clone's later turns can send the call back to a model).
_CALL_TEXT_FIELDS = ("id", "server", "name", "status")
_NOTICE_MAX_CHARS = 1000


def safe_web_url(value) -> str:
    """``value`` if it is an absolute http(s) address a link may point at, else ""."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    if not url or len(url) > URL_MAX_CHARS or any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return url


def shared_source(source) -> dict | None:
    """A reply's source as strangers see it: the passage's snippet and where it came from, no id
    (the files stay their owner's); a web page's address when it is a safe one."""
    if not isinstance(source, dict):
        return None
    shared = {key: source.get(key) for key in ("n", "kind", "title", "snippet", "page")}
    if source.get("kind") == "web":
        shared["url"] = safe_web_url(source.get("url"))
    return shared


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _int_or_none(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def shared_call(call, *, private: set[str]) -> dict | None:
    """One entry of ``Message.tool_calls`` as a share holds it (None: not one the server ran)."""
    if not isinstance(call, dict) or not call.get("status"):
        return None
    hidden = call.get("private") is True or call.get("result_hidden") is True or _text(call.get("server")) in private
    arguments = call.get("arguments")
    entry = {name: _text(call.get(name)) for name in _CALL_TEXT_FIELDS}
    entry.update(
        {
            "arguments": arguments if isinstance(arguments, dict) else {},
            "result": None if hidden else _text(call.get("result")),
            "result_hidden": hidden,
            "error": "" if hidden else _text(call.get("error")),
            "truncated": False if hidden else call.get("truncated") is True,
            "offset": _int_or_none(call.get("offset")),
        }
    )
    if hidden:
        entry["private"] = True
    entry["type"] = "function"
    entry["function"] = openai_function(call)
    return entry


def openai_function(call: dict) -> dict:
    """A call's ``function`` in OpenAI's form (``{name, arguments}``, the arguments a JSON string):
    the entry's own, else made from its tool's name and arguments as the reply would have named
    them (``<server>__<tool>``; the built-in web search is ``web_search``)."""
    function = call.get("function")
    if isinstance(function, dict) and isinstance(function.get("name"), str):
        return {"name": function["name"], "arguments": _text(function.get("arguments"))}
    server, name = _text(call.get("server")), _text(call.get("name"))
    arguments = call.get("arguments")
    return {
        "name": (name if server in ("", name) else f"{server}__{name}")[:FUNCTION_NAME_MAX],
        "arguments": json.dumps(arguments if isinstance(arguments, dict) else {}, ensure_ascii=False),
    }


def shared_calls(calls, *, private: set[str]) -> list[dict]:
    if not isinstance(calls, list):
        return []
    shared = (shared_call(call, private=private) for call in calls)
    return [call for call in shared if call is not None]


def shared_notices(notices) -> list[dict]:
    """A reply's notices as text: ``{code, message}`` each."""
    if not isinstance(notices, list):
        return []
    return [
        {"code": _text(notice.get("code")), "message": _text(notice.get("message"))[:_NOTICE_MAX_CHARS]}
        for notice in notices
        if isinstance(notice, dict)
    ]


def private_servers() -> set[str]:
    """The tool servers whose results no share shows, as the operator has them now."""
    return private_server_names()


def shown_message(item: dict, *, private: set[str]) -> dict:
    """A snapshot's message as it is shown (or cloned) now: its calls hidden again by the servers
    private today, its web sources' addresses checked again."""
    if not isinstance(item, dict):
        return item
    shown = dict(item)
    if "tool_calls" in item:
        shown["tool_calls"] = shared_calls(item["tool_calls"], private=private)
    if "sources" in item:
        shown["sources"] = [s for s in (shared_source(source) for source in item["sources"] or []) if s is not None]
    if "notices" in item:
        shown["notices"] = shared_notices(item["notices"])
    return shown


def shown_messages(messages, *, private: set[str] | None = None) -> list[dict]:
    private = private_servers() if private is None else private
    return [shown_message(item, private=private) for item in messages or []]


def arguments_text(arguments) -> str:
    """A call's arguments for people: indented JSON."""
    return json.dumps(arguments if isinstance(arguments, dict) else {}, ensure_ascii=False, indent=2, sort_keys=True)
