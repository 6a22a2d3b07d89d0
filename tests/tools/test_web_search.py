"""The built-in web_search (tools/web_search.py) against a fake SearXNG and a page server on
loopback: results read from SearXNG's JSON, result pages fetched through the SSRF guard only when
the operator allows private addresses (the test's pages are all on loopback), and a search service
that is down, slow or misconfigured reported in one line."""

import socket

import pytest

from tools.models import CallStatus
from tools.toolbox import Function, run, web_results_text
from tools.web_search import SNIPPET_MAX_CHARS, TEXT_MAX_CHARS, SearchFound, WebResult, search

from .searxng import pages, result, searxng  # noqa: F401

ARTICLE = """<!doctype html><html><head><title>Ignored</title><style>p { color: red }</style></head>
<body><nav>Home | About</nav><header>Site banner</header>
<main><h1>Seoul weather</h1><p>It is <b>12 degrees</b> and   sunny.</p>
<script>track()</script><div hidden>do not show</div><ul><li>Wind: light</li><li>Rain: none</li></ul></main>
<footer>Copyright</footer></body></html>"""


@pytest.fixture
def tools_settings(settings, searxng):  # noqa: F811
    """Web search on the fake SearXNG; each test says what else it needs."""

    def configure(**values):
        settings.TOOLS = {**settings.TOOLS, "WEB_SEARCH_URL": searxng.base_url, **values}

    configure(WEB_SEARCH_RESULTS=5, WEB_FETCH_PAGES=3, FETCH_ALLOW_PRIVATE=False)
    return configure


async def test_results_are_read_from_searxng(tools_settings, searxng, pages):  # noqa: F811
    tools_settings(WEB_SEARCH_RESULTS=3, WEB_FETCH_PAGES=0)
    searxng.results = [
        result("https://example.com/a", "<b>Seoul</b>   weather\ntoday", "Twelve   degrees\n and sunny."),
        result("https://example.com/a", "The same page again"),
        result("ftp://example.com/file", "Not a web page"),
        result("javascript:alert(1)", "Not a web page either"),
        {"title": "No URL"},
        "not an object",
        result("http://example.org/b", "", "x" * 1000),
        result("https://example.net/c", "Third", "Third summary"),
        result("https://example.net/d", "Fourth: past the limit"),
    ]
    found = await search("서울 날씨 today")
    assert found == SearchFound(
        [
            WebResult("https://example.com/a", "Seoul weather today", "Twelve degrees and sunny.", ""),
            WebResult("http://example.org/b", "http://example.org/b", "x" * (SNIPPET_MAX_CHARS - 1) + "…", ""),
            WebResult("https://example.net/c", "Third", "Third summary", ""),
        ]
    )
    assert [(q["q"], q["format"]) for q in searxng.queries] == [("서울 날씨 today", "json")]
    assert pages.requests == []  # WEB_FETCH_PAGES 0: no page fetched


async def test_result_pages_are_fetched_when_private_addresses_are_allowed(tools_settings, searxng, pages):  # noqa: F811
    tools_settings(WEB_FETCH_PAGES=4, FETCH_ALLOW_PRIVATE=True)
    searxng.results = [
        result(pages.page("/article", ARTICLE), "Article", "The article's summary"),
        result(pages.page("/notes.txt", "plain\n\n  text   here", "text/plain; charset=utf-8"), "Notes"),
        result(pages.page("/paper.pdf", b"%PDF-1.7", "application/pdf"), "A PDF", "The PDF's summary"),
        result(pages.url("/gone"), "Gone", "A page that is no more"),
        result(pages.page("/fifth", "<p>not fetched</p>"), "Fifth", "Past WEB_FETCH_PAGES"),
    ]
    found = await search("weather")
    assert found.error == ""
    texts = {r.title: r.text for r in found.results}
    assert texts == {
        "Article": "Seoul weather\nIt is 12 degrees and sunny.\nWind: light\nRain: none",
        "Notes": "plain\ntext here",
        "A PDF": "",  # not text: the snippet stays
        "Gone": "",  # 404
        "Fifth": "",
    }
    assert found.results[2].snippet == "The PDF's summary"
    assert sorted(pages.paths) == ["/article", "/gone", "/notes.txt", "/paper.pdf"]


async def test_a_long_page_is_capped(tools_settings, searxng, pages):  # noqa: F811
    tools_settings(FETCH_ALLOW_PRIVATE=True)
    searxng.results = [result(pages.page("/long", "<p>" + "word " * 5000 + "</p>"), "Long")]
    [long] = (await search("long")).results
    assert len(long.text) == TEXT_MAX_CHARS
    assert long.text.endswith("…")


async def test_result_urls_on_internal_addresses_are_not_fetched(tools_settings, searxng, pages, caplog):  # noqa: F811
    """The SSRF guard: with private addresses not allowed (the default), a result on loopback or
    the cloud's metadata service is never requested; its snippet stays, one warning names its host."""
    pages.page("/secret", "<p>internal</p>")
    searxng.results = [
        result(pages.url("/secret?token=hunter2"), "Loopback", "The loopback page's summary"),
        result("http://169.254.169.254/latest/meta-data/", "Metadata", "The metadata's summary"),
        result(f"http://localhost:{pages.port}/secret", "Localhost", "Localhost's summary"),
    ]
    with caplog.at_level("WARNING", logger="tools.web_search"):
        found = await search("internal")
    assert [(r.title, r.snippet, r.text) for r in found.results] == [
        ("Loopback", "The loopback page's summary", ""),
        ("Metadata", "The metadata's summary", ""),
        ("Localhost", "Localhost's summary", ""),
    ]
    assert pages.requests == []
    warnings = sorted(r.getMessage() for r in caplog.records if r.name == "tools.web_search")  # fetched at once
    assert warnings[:2] == [
        "web_search: the page from 127.0.0.1 was not fetched: 127.0.0.1 is a loopback address",
        "web_search: the page from 169.254.169.254 was not fetched: 169.254.169.254 is a link-local address",
    ]  # hosts, never a URL's query (hunter2)
    assert warnings[2].startswith("web_search: the page from localhost was not fetched: localhost resolves to ")
    assert warnings[2].endswith(", which is a loopback address")  # 127.0.0.1 or ::1, as this machine says
    assert len(warnings) == 3


@pytest.mark.parametrize(
    "setup, error",
    [
        ({"status": 500}, "The web search service failed (HTTP 500)."),
        ({"status": 200, "raw": b"<html>not json</html>"}, "The web search service's answer could not be read."),
        ({"status": 200, "raw": b'{"results": "not a list"}'}, "The web search service's answer could not be read."),
    ],
)
async def test_a_failing_search_service_is_one_line(tools_settings, searxng, setup, error):  # noqa: F811
    for name, value in setup.items():
        setattr(searxng, name, value)
    assert await search("anything") == SearchFound([], error=error)


async def test_searxng_without_its_json_format_is_reported(settings, searxng, caplog):  # noqa: F811
    settings.TOOLS = {**settings.TOOLS, "WEB_SEARCH_URL": searxng.base_url + "/"}
    searxng.raw = b"Forbidden"
    searxng.status = 403
    with caplog.at_level("WARNING", logger="tools.web_search"):
        found = await search("anything")
    assert found == SearchFound([], error="The web search service failed (HTTP 403).")
    assert "format json" in caplog.text  # the operator's hint


async def test_searxng_down_is_an_error(settings):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    settings.TOOLS = {**settings.TOOLS, "WEB_SEARCH_URL": f"http://127.0.0.1:{port}"}
    assert await search("anything") == SearchFound([], error="The web search service could not be reached.")


async def test_a_silent_searxng_times_out(settings):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts, never answers
    try:
        settings.TOOLS = {
            **settings.TOOLS,
            "WEB_SEARCH_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
            "WEB_SEARCH_TIMEOUT_SECONDS": 0.3,
        }
        found = await search("anything")
    finally:
        silent.close()
    assert found == SearchFound([], error="The web search service did not answer within 0.3 s.")


async def test_not_configured_is_an_error(settings):
    settings.TOOLS = {**settings.TOOLS, "WEB_SEARCH_URL": ""}
    assert await search("anything") == SearchFound([], error="Web search is not set up on this server.")


async def test_the_toolbox_runs_the_search_and_numbers_its_results(tools_settings, searxng, pages):  # noqa: F811
    """The path a reply takes (tools/toolbox.py): the call's outcome carries the results, and the
    model reads them numbered, with the page's text where it was fetched and the snippet where not."""
    tools_settings(WEB_FETCH_PAGES=1, FETCH_ALLOW_PRIVATE=True)
    searxng.results = [
        result(pages.page("/article", ARTICLE), "Article", "The article's summary"),
        result("https://example.com/other", "Other", "The other summary"),
    ]
    outcome = await run(Function("web_search", "web_search", "web_search", None), {"query": "  weather  "})
    assert outcome.status == CallStatus.OK
    assert [r.title for r in outcome.web_results] == ["Article", "Other"]
    assert searxng.queries[0]["q"] == "weather"
    text, truncated = web_results_text(outcome.web_results, first_n=3)
    assert "[3] Article\nURL: " + pages.url("/article") + "\nSeoul weather\nIt is 12 degrees" in text
    assert "[4] Other\nURL: https://example.com/other\nThe other summary" in text
    assert not truncated


async def test_the_toolbox_reports_a_failed_search(tools_settings, searxng):  # noqa: F811
    searxng.status = 502
    searxng.raw = b"Bad Gateway"
    outcome = await run(Function("web_search", "web_search", "web_search", None), {"query": "weather"})
    assert (outcome.status, outcome.error) == (CallStatus.ERROR, "The web search service failed (HTTP 502).")
