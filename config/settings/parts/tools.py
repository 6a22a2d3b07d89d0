"""Tools a reply may call: MCP servers staff register (tools/), and the built-in web search."""

from .env import env

TOOLS = {
    # How many rounds of tool calls one reply may make; then the model answers without tools.
    "ROUNDS_MAX": env.int("TOOL_ROUNDS_MAX", default=5),
    # Calls the model may ask for in one round (more are answered "not run").
    "CALLS_PER_ROUND_MAX": env.int("TOOL_CALLS_PER_ROUND_MAX", default=8),
    # A call's result: at most this many characters reach the model, and are kept in the reply.
    "RESULT_MAX_CHARS": env.int("TOOL_RESULT_MAX_CHARS", default=8000),
    # Listing a server's tools at the start of a reply: past this, the server is left out.
    "LIST_TIMEOUT_SECONDS": env.float("TOOL_LIST_TIMEOUT_SECONDS", default=5.0),
    # A server's tool listing is reused for this long by the replies of this process.
    "LIST_CACHE_SECONDS": env.float("TOOL_LIST_CACHE_SECONDS", default=60.0),
    # The variables a server's header may be read from ("Name: value-from-env:VAR"); never the
    # service's own settings, whatever this says (core/api_key_env.py).
    "HEADER_ENV_ALLOWED": env.list("TOOL_HEADER_ENV_ALLOWED", default=["*"]),
    # The built-in web_search: a SearXNG instance's base URL (its JSON API, format=json enabled in
    # its settings.yml). Empty: no web search.
    "WEB_SEARCH_URL": env.str("WEB_SEARCH_URL", default=""),
    "WEB_SEARCH_RESULTS": env.int("WEB_SEARCH_RESULTS", default=5),
    "WEB_SEARCH_TIMEOUT_SECONDS": env.float("WEB_SEARCH_TIMEOUT_SECONDS", default=10.0),
    # How many of the results' pages are fetched for their text (0: the search's snippets only),
    # each at most FETCH_MAX_BYTES, through the SSRF guard (core/ssrf.py).
    "WEB_FETCH_PAGES": env.int("WEB_FETCH_PAGES", default=3),
    "WEB_FETCH_MAX_BYTES": env.int("WEB_FETCH_MAX_BYTES", default=1_000_000),
    "WEB_FETCH_TIMEOUT_SECONDS": env.float("WEB_FETCH_TIMEOUT_SECONDS", default=5.0),
    # Private, loopback and link-local addresses a fetched page may be on (off: never).
    "FETCH_ALLOW_PRIVATE": env.bool("TOOL_FETCH_ALLOW_PRIVATE", default=False),
}
