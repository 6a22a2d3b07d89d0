"""The SSRF guard: fetching a URL on a user's or a model's behalf without reaching inside.

A URL the server is handed (a web search's result, a link in a chat) may name anything: this
machine's loopback, the office network, the cloud's metadata service at 169.254.169.254.
``fetch_public`` fetches it only over http(s), without credentials, and only when EVERY address
its host resolves to is public; it then connects to exactly the address it checked. A name that
resolves to a public address for the check and to 127.0.0.1 a moment later (DNS rebinding) gains
nothing: it is resolved once per connection, by the guard.

The check lives in the connection itself: an httpcore network backend (``_GuardedBackend``) whose
``connect_tcp`` is handed the URL's host name, resolves it off the event loop, checks, and connects
to the checked address. httpcore still writes the name into the Host header and the TLS SNI, and
verifies the certificate against it, as for any other connection. Redirects are followed here, one
hop at a time (at most ``MAX_REDIRECTS``), each hop's URL checked and connected through the guard.
No proxy from the environment is used: a proxy would resolve the name itself.
"""

import asyncio
import functools
import ipaddress
import re
import socket
import ssl
import typing
import zlib
from dataclasses import dataclass

import httpcore
import httpx

MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_HEADERS = [
    (b"User-Agent", b"Mozilla/5.0 (compatible; chat-server page fetch)"),
    (b"Accept", b"text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5"),
    (b"Accept-Encoding", b"gzip"),
]
# IPv4 ranges the standard library (3.11) does not count as private whole.
_SPECIAL_V4 = {
    ipaddress.IPv4Network("100.64.0.0/10"): "shared (carrier-grade NAT)",
    ipaddress.IPv4Network("192.0.0.0/24"): "special-purpose",  # IETF protocol assignments
}
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # the last 32 bits: the IPv4 address reached
_HOST = re.compile(rb"[A-Za-z0-9._:-]+")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchFailed(Exception):
    """The page could not be fetched: the network, a timeout, the server's HTTP, a redirect loop."""


class Refused(FetchFailed):
    """The guard will not fetch this URL (its one-line reason is the message)."""


@dataclass(frozen=True, slots=True)
class FetchedPage:
    url: str  # the last hop's URL (after redirects)
    status: int
    content_type: str  # the Content-Type header as sent ("" when absent)
    body: bytes  # decoded from gzip when it came so; at most max_bytes
    truncated: bool  # the body was longer than max_bytes and was cut there


def address_refusal(address: IPAddress) -> str:
    """What kind of address this is when the server must not connect to it; "" when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 address carrying an IPv4 one is judged by the IPv4 address it leads to.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_refusal(embedded)
        if address.is_site_local:
            return "site-local"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),  # 169.254/16 (cloud metadata), fe80::/10
        ("multicast", address.is_multicast),
        *((kind, address in network) for network, kind in _SPECIAL_V4.items() if address.version == 4),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-public", not address.is_global),
    )
    return next((kind for kind, hit in checks if hit), "")


async def _checked_addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """The addresses ``host`` resolves to, every one checked (one refused: the whole host is)."""
    loop = asyncio.get_running_loop()
    try:  # the loop's resolver runs in a thread: the event loop is never blocked on DNS
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise FetchFailed(f"{host} could not be resolved") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise FetchFailed(f"{host} could not be resolved")
    if allow_private:
        return addresses
    for address in addresses:
        try:
            kind = address_refusal(ipaddress.ip_address(address))
        except ValueError:
            kind = "unreadable"
        if kind:
            shown = host if host == address else f"{host} resolves to {address}, which"
            raise Refused(f"{shown} is a {kind} address")
    return addresses


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own backend, connecting only to the addresses the guard checked."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        error: Exception = httpcore.ConnectError(f"{host} could not be connected to")
        for address in await _checked_addresses(host, port, self._allow_private):
            try:  # an address literal: nothing is resolved again
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc  # the next address, as a resolver's caller would
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise Refused("a unix socket is not fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()  # certifi's roots, or SSL_CERT_FILE / SSL_CERT_DIR


def _checked_url(url: str) -> httpx.URL:
    """The URL parsed (httpx's parser, IDNA hosts), or Refused before anything is resolved."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise Refused("not a valid URL") from exc
    if parsed.scheme not in ("http", "https"):
        raise Refused(f"the scheme {parsed.scheme or '(none)'!r} is not fetched (http and https only)")
    if parsed.userinfo:
        raise Refused("a URL with credentials in it is not fetched")
    if not parsed.raw_host:
        raise Refused("the URL has no host")
    if not _HOST.fullmatch(parsed.raw_host):  # a name (IDNA-encoded) or an address, nothing else
        raise Refused("the URL's host is not a host name or an address")
    return parsed


async def _body(response: httpcore.Response, max_bytes: int) -> tuple[bytes, bool]:
    """The body read as it streams in, cut at ``max_bytes`` (decoded from gzip when it came so: a
    small compressed body cannot grow past the cap either)."""
    encoding = _header(response, b"content-encoding").lower()
    decoder = None
    if encoding in ("gzip", "x-gzip", "deflate"):
        decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or zlib header, detected
    elif encoding not in ("", "identity"):
        raise FetchFailed(f"the body's encoding {encoding!r} is not read")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_stream():
        if decoder is not None:
            chunk = decoder.decompress(chunk, max_bytes - size + 1)  # never more than the cap needs
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            return b"".join(chunks)[:max_bytes], True
    return b"".join(chunks), False


async def _get(
    pool: httpcore.AsyncConnectionPool, target: httpx.URL, max_bytes: int, timeout: float
) -> FetchedPage | str:
    """One hop: the page, or the URL a redirect leads to (not checked yet)."""
    core_url = httpcore.URL(scheme=target.raw_scheme, host=target.raw_host, port=target.port, target=target.raw_path)
    headers = [(b"Host", target.netloc), *_HEADERS]  # netloc: the host ([v6] in brackets) and a port
    phases = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    async with pool.stream("GET", core_url, headers=headers, extensions={"timeout": phases}) as response:
        location = _header(response, b"location")
        if response.status in _REDIRECT_STATUSES and location:
            try:  # relative to this hop; leaving the block closes the response unread
                return str(target.join(location).copy_with(fragment=None))
            except (httpx.InvalidURL, TypeError) as exc:
                raise Refused("a redirect to an invalid URL") from exc
        body, truncated = await _body(response, max_bytes)
        return FetchedPage(str(target), response.status, _header(response, b"content-type"), body, truncated)


def _header(response: httpcore.Response, name: bytes) -> str:
    value = next((v for k, v in response.headers if k.lower() == name), b"")
    return value.decode("latin-1").strip()


async def fetch_public(url: str, *, max_bytes: int, timeout: float, allow_private: bool = False) -> FetchedPage:
    """GET ``url`` through the guard: ``Refused`` when the URL or an address of any hop may not be
    reached (unless ``allow_private``: then only the scheme and credentials are checked),
    ``FetchFailed`` when the page could not be had. ``timeout`` bounds the whole fetch, redirects
    and body included. A response that is not a redirect comes back whatever its status."""
    host = "?"
    try:
        async with (
            asyncio.timeout(timeout),
            httpcore.AsyncConnectionPool(
                ssl_context=_ssl_context(), network_backend=_GuardedBackend(allow_private), retries=0
            ) as pool,
        ):
            for _hop in range(MAX_REDIRECTS + 1):
                target = _checked_url(url)
                host = target.host
                answer = await _get(pool, target, max_bytes, timeout)
                if isinstance(answer, FetchedPage):
                    return answer
                url = answer
            raise FetchFailed(f"more than {MAX_REDIRECTS} redirects")
    except TimeoutError as exc:
        raise FetchFailed(f"{host} did not answer within {timeout:g} s") from exc
    except (
        httpcore.NetworkError,
        httpcore.TimeoutException,
        httpcore.ProtocolError,
        httpcore.UnsupportedProtocol,
        OSError,
        zlib.error,
    ) as exc:
        raise FetchFailed(f"{host}: {exc or exc.__class__.__name__}") from exc
