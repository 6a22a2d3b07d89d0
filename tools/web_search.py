"""The built-in ``web_search``: a SearXNG instance's JSON API, and the readable text of the first
results' pages.

SearXNG (``TOOLS["WEB_SEARCH_URL"]``) is the operator's own service: it is called directly, even on
loopback. The result pages are the web's, named by whoever wrote the results: each is fetched
through the SSRF guard (``core.ssrf.fetch_public``), and a page that is refused or fails keeps its
search snippet, with one warning in the log naming its host (never the URL: its query may carry
what the user searched for).
"""

import asyncio
import codecs
import logging
import re
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import httpx
from bs4 import BeautifulSoup
from django.conf import settings

from core.ssrf import FetchFailed, fetch_public

logger = logging.getLogger(__name__)

TITLE_MAX_CHARS = 200
SNIPPET_MAX_CHARS = 300
TEXT_MAX_CHARS = 4000
URL_MAX_CHARS = 2048
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
# Elements whose text is not the page's: code, styles, navigation, chrome, forms, embedded things.
_NOT_TEXT = [
    "head", "script", "style", "noscript", "template", "svg", "math", "canvas", "iframe", "object", "embed",
    "nav", "header", "footer", "aside", "menu", "form", "button", "select", "textarea", "dialog",
]  # fmt: skip
_NOT_TEXT_SELECTOR = (
    '[hidden], [aria-hidden="true"], [role="navigation"], [role="banner"], [role="contentinfo"], [role="search"]'
)
# Elements that end a line of text (the rest run on, as a browser shows them).
_BLOCKS = [
    "p", "div", "br", "li", "dt", "dd", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
    "section", "article", "main", "table", "ul", "ol", "dl", "figure", "figcaption", "hr", "address",
]  # fmt: skip
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class WebResult:
    url: str
    title: str
    snippet: str  # SearXNG's summary of the page, plain text
    text: str  # the fetched page's readable text (capped), "" when it was not fetched or refused


@dataclass(frozen=True, slots=True)
class SearchFound:
    results: list[WebResult]
    error: str = ""  # one line a user can read: the search itself failed


class _SearchDown(Exception):
    """The search service failed: the message is for the user, ``detail`` for the log."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message


async def search(query: str) -> SearchFound:
    """The first ``WEB_SEARCH_RESULTS`` web results for ``query``, the first ``WEB_FETCH_PAGES`` of
    them with their page's text. Never raises for a failure: ``SearchFound.error`` says it."""
    base = settings.TOOLS["WEB_SEARCH_URL"].strip().rstrip("/")
    if not base:
        return SearchFound([], error="Web search is not set up on this server.")
    try:
        entries = await _searxng(base, query)
    except _SearchDown as exc:
        logger.warning("web_search: %s", exc.detail)
        return SearchFound([], error=str(exc))
    results = _results(entries, settings.TOOLS["WEB_SEARCH_RESULTS"])
    fetched = results[: max(0, settings.TOOLS["WEB_FETCH_PAGES"])]
    texts = await asyncio.gather(*(_page_text(result.url) for result in fetched))
    return SearchFound(
        [replace(result, text=text) for result, text in zip(fetched, texts, strict=True)] + results[len(fetched) :]
    )


async def _searxng(base: str, query: str) -> list:
    """``GET {base}/search?q=...&format=json``: its ``results`` list."""
    timeout = settings.TOOLS["WEB_SEARCH_TIMEOUT_SECONDS"]
    headers = {"Accept": "application/json", "User-Agent": "chat-server web_search"}
    try:
        async with asyncio.timeout(timeout):
            async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, headers=headers) as client:
                response = await client.get(f"{base}/search", params={"q": query, "format": "json"})
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise _SearchDown(f"The web search service did not answer within {timeout:g} s.") from exc
    except httpx.HTTPError as exc:
        raise _SearchDown(
            "The web search service could not be reached.",
            f"SearXNG at {base} could not be reached: {exc or exc.__class__.__name__}",
        ) from exc
    if response.status_code != 200:
        hint = " (is format json enabled in its settings.yml, search.formats?)" if response.status_code == 403 else ""
        raise _SearchDown(
            f"The web search service failed (HTTP {response.status_code}).",
            f"SearXNG at {base} answered HTTP {response.status_code}{hint}",
        )
    try:
        data = response.json()
    except ValueError as exc:
        raise _SearchDown(
            "The web search service's answer could not be read.", f"SearXNG at {base} did not answer JSON"
        ) from exc
    entries = data.get("results") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise _SearchDown(
            "The web search service's answer could not be read.", f"SearXNG at {base} answered no results list"
        )
    return entries


def _results(entries: list, limit: int) -> list[WebResult]:
    """The first ``limit`` entries with an http(s) URL, each URL once, their text made plain."""
    results: list[WebResult] = []
    seen: set[str] = set()
    for entry in entries:
        if len(results) >= limit:
            break
        url = entry.get("url") if isinstance(entry, dict) else None
        if not isinstance(url, str) or url in seen or not _is_web_url(url):
            continue
        seen.add(url)
        title = _cut(_plain(entry.get("title")), TITLE_MAX_CHARS) or url
        results.append(WebResult(url, title, _cut(_plain(entry.get("content")), SNIPPET_MAX_CHARS), ""))
    return results


def _is_web_url(url: str) -> bool:
    if len(url) > URL_MAX_CHARS or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return False  # the URL is shown to the model on a line of its own
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # a malformed port or IPv6 literal
        return False


def _plain(value) -> str:
    """A result's title or summary as one line of plain text (SearXNG's may hold some markup)."""
    if not isinstance(value, str):
        return ""
    if "<" in value:
        value = BeautifulSoup(value, "lxml").get_text(" ")
    return _SPACES.sub(" ", value).strip()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def _page_text(url: str) -> str:
    """A result page's readable text, "" when it may not or could not be had (logged)."""
    host = urlsplit(url).hostname or "?"
    timeout = settings.TOOLS["WEB_FETCH_TIMEOUT_SECONDS"]
    try:
        async with asyncio.timeout(timeout):  # the text's extraction included
            page = await fetch_public(
                url,
                max_bytes=settings.TOOLS["WEB_FETCH_MAX_BYTES"],
                timeout=timeout,
                allow_private=settings.TOOLS["FETCH_ALLOW_PRIVATE"],
            )
            if not 200 <= page.status < 300:
                raise FetchFailed(f"HTTP {page.status}")
            media_type, _, parameters = page.content_type.partition(";")
            if media_type.strip().lower() not in _PAGE_TYPES:
                return ""  # a PDF, an image: the snippet says what it is about
            return await asyncio.to_thread(_readable_text, page.body, media_type.strip().lower(), _charset(parameters))
    except TimeoutError:
        logger.warning("web_search: the page from %s took longer than %g s", host, timeout)
    except FetchFailed as exc:  # Refused included: the guard's reason names the address, not the URL
        logger.warning("web_search: the page from %s was not fetched: %s", host, exc)
    except Exception as exc:  # a page this code cannot read is a page without text, never a failed search
        logger.warning("web_search: the page from %s could not be read: %s", host, exc.__class__.__name__)
    return ""


def _charset(parameters: str) -> str | None:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            try:
                return codecs.lookup(value.strip().strip("\"'")).name
            except LookupError:
                return None
    return None


def _readable_text(body: bytes, media_type: str, charset: str | None) -> str:
    """The text a reader sees: a page's main content without its scripts, styles, navigation and
    chrome, one line per block, whitespace collapsed, capped. Runs in a thread (a large page takes
    lxml a moment)."""
    if media_type == "text/plain":
        text = body.decode(charset or "utf-8", errors="replace")
    else:
        soup = BeautifulSoup(body, "lxml", from_encoding=charset)
        for element in soup.find_all(_NOT_TEXT) + soup.select(_NOT_TEXT_SELECTOR):
            if not element.decomposed:  # not inside one removed already
                element.decompose()
        root = soup.find("main") or soup.body or soup
        for element in root.find_all(_BLOCKS):
            element.insert_after("\n")
        text = root.get_text()
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _cut("\n".join(line for line in lines if line), TEXT_MAX_CHARS)
