"""The SSRF guard (core/ssrf.py) against real sockets on loopback: what it refuses before any
connection, what it fetches when the operator allows private addresses, redirects checked hop by
hop, and a name that changes its answer (DNS rebinding) connected to the address checked."""

import asyncio
import datetime
import gzip
import ipaddress
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core import ssrf
from core.ssrf import FetchFailed, Refused, address_refusal, fetch_public

from .searxng import PageServer, pages  # noqa: F401

LIMITS = {"max_bytes": 100_000, "timeout": 5}


def fake_dns(monkeypatch, answers: dict) -> list[str]:
    """The running loop's resolver answers these names (a list of addresses, or a function giving
    one per call); other names and address literals resolve as usual. The names asked: returned."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    asked: list[str] = []

    async def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return await real(host, port, *args, **kwargs)
        asked.append(host)
        answer = answers[host]
        addresses = answer() if callable(answer) else answer
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return asked


def treat_as_public(monkeypatch, address: str) -> None:
    """Let the guard take one loopback address for a public one: a stand-in for a host on the web."""
    real = ssrf.address_refusal
    public = ipaddress.ip_address(address)
    monkeypatch.setattr(ssrf, "address_refusal", lambda a: "" if a == public else real(a))


@pytest.fixture
def public_site():
    """A page server on 127.0.0.2: with ``treat_as_public``, "a host on the web"."""
    try:
        server = PageServer(host="127.0.0.2").start()
    except OSError:
        pytest.skip("127.0.0.2 cannot be bound here")
    yield server
    server.stop()


@pytest.mark.parametrize(
    "address, kind",
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 (an address checked, not bound)
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("192.0.0.8", "special-purpose"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),  # Python counts 240/4 private as well as reserved
        ("255.255.255.255", "private"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("fec0::1", "site-local"),
        ("192.0.2.1", "private"),  # documentation
        ("2001:db8::1", "private"),
    ],
)
def test_non_public_addresses_are_named(address, kind):
    assert address_refusal(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"])
def test_public_addresses_pass(address):
    assert address_refusal(ipaddress.ip_address(address)) == ""


@pytest.mark.parametrize(
    "template, reason",
    [
        ("http://127.0.0.1:{port}/", "127.0.0.1 is a loopback address"),
        ("http://localhost:{port}/", "localhost resolves to"),
        ("http://[::1]:{port}/", "::1 is a loopback address"),
        ("http://0.0.0.0:{port}/", "unspecified"),  # connecting to 0.0.0.0 reaches this machine
        ("http://127.1:{port}/", "127.1 resolves to 127.0.0.1"),
        ("http://[::ffff:127.0.0.1]:{port}/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://10.0.0.1/", "10.0.0.1 is a private address"),
        ("http://100.64.0.1/", "shared (carrier-grade NAT)"),
        ("http://[fe80::1]/", "link-local"),
    ],
)
async def test_internal_addresses_are_refused_before_any_connection(pages, template, reason):  # noqa: F811
    with pytest.raises(Refused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        await fetch_public(template.format(port=pages.port), **LIMITS)
    assert pages.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/file",
        "gopher://example.com/",
        "javascript:alert(1)",
        "data:text/html,hello",
        "//example.com/no-scheme",
        "http:///no-host",
        "http://[not-an-address/",
    ],
)
async def test_only_http_urls_with_a_host_are_fetched(url):
    with pytest.raises(Refused):
        await fetch_public(url, **LIMITS, allow_private=True)


async def test_credentials_in_the_url_are_refused(pages):  # noqa: F811
    pages.page("/", "hello")
    with pytest.raises(Refused, match="credentials"):
        await fetch_public(f"http://admin:secret@127.0.0.1:{pages.port}/", **LIMITS, allow_private=True)
    assert pages.requests == []


async def test_loopback_is_fetched_when_the_operator_allows_private_addresses(pages):  # noqa: F811
    url = pages.page("/hello", "<p>hello</p>")
    page = await fetch_public(url + "?q=1", **LIMITS, allow_private=True)
    assert (page.url, page.status, page.content_type) == (url + "?q=1", 200, "text/html; charset=utf-8")
    assert (page.body, page.truncated) == (b"<p>hello</p>", False)
    path, headers = pages.requests[0]
    assert path == "/hello?q=1"
    assert headers["host"] == f"127.0.0.1:{pages.port}"


async def test_any_status_but_a_redirect_comes_back(pages):  # noqa: F811
    page = await fetch_public(pages.url("/missing"), **LIMITS, allow_private=True)
    assert (page.status, page.body) == (404, b"Not Found")


async def test_the_body_is_cut_at_max_bytes(pages):  # noqa: F811
    url = pages.page("/big", b"x" * 50_000, "text/plain")
    page = await fetch_public(url, max_bytes=1000, timeout=5, allow_private=True)
    assert (len(page.body), page.truncated) == (1000, True)
    exact = await fetch_public(url, max_bytes=50_000, timeout=5, allow_private=True)
    assert (len(exact.body), exact.truncated) == (50_000, False)


async def test_a_gzip_body_is_decoded_and_cut_at_max_bytes_decoded(pages):  # noqa: F811
    small = pages.page("/small", gzip.compress(b"hello " * 10), "text/plain", headers={"Content-Encoding": "gzip"})
    page = await fetch_public(small, **LIMITS, allow_private=True)
    assert (page.body, page.truncated) == (b"hello " * 10, False)
    bomb = pages.page("/bomb", gzip.compress(b"\0" * 20_000_000), "text/plain", headers={"Content-Encoding": "gzip"})
    page = await fetch_public(bomb, max_bytes=5000, timeout=5, allow_private=True)
    assert (len(page.body), page.truncated) == (5000, True)


async def test_redirects_are_followed_and_capped(pages):  # noqa: F811
    pages.page("/end", "the end", "text/plain")
    pages.redirect("/start", "/middle#fragment", status=301)
    pages.redirect("/middle", pages.url("/end"), status=307)
    page = await fetch_public(pages.url("/start"), **LIMITS, allow_private=True)
    assert (page.url, page.body) == (pages.url("/end"), b"the end")
    assert pages.paths == ["/start", "/middle", "/end"]

    for n in range(7):
        pages.redirect(f"/loop{n}", f"/loop{n + 1}")
    with pytest.raises(FetchFailed, match="more than 5 redirects"):
        await fetch_public(pages.url("/loop0"), **LIMITS, allow_private=True)


async def test_a_redirect_to_another_scheme_is_refused(pages):  # noqa: F811
    pages.redirect("/file", "file:///etc/passwd")
    with pytest.raises(Refused, match="scheme 'file'"):
        await fetch_public(pages.url("/file"), **LIMITS, allow_private=True)


async def test_every_resolved_address_is_checked(monkeypatch, pages):  # noqa: F811
    asked = fake_dns(monkeypatch, {"mixed.example": ["8.8.8.8", "127.0.0.1"]})
    with pytest.raises(Refused, match="mixed.example resolves to 127.0.0.1, which is a loopback address"):
        await fetch_public(f"http://mixed.example:{pages.port}/", **LIMITS)
    assert asked == ["mixed.example"]
    assert pages.requests == []


async def test_a_public_host_is_fetched_by_its_name(monkeypatch, public_site):
    fake_dns(monkeypatch, {"public.example": ["127.0.0.2"]})
    treat_as_public(monkeypatch, "127.0.0.2")
    public_site.page("/", "on the web")
    page = await fetch_public(f"http://public.example:{public_site.port}/", **LIMITS)
    assert page.body == b"on the web"
    assert public_site.requests[0][1]["host"] == f"public.example:{public_site.port}"  # the name, not the address


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/secret", "http://localhost:{port}/secret"])
async def test_a_redirect_from_a_public_host_to_an_internal_one_is_refused(monkeypatch, public_site, pages, target):  # noqa: F811
    fake_dns(monkeypatch, {"public.example": ["127.0.0.2"]})
    treat_as_public(monkeypatch, "127.0.0.2")
    pages.page("/secret", "internal")
    public_site.redirect("/go", target.format(port=pages.port))
    with pytest.raises(Refused, match="loopback"):
        await fetch_public(f"http://public.example:{public_site.port}/go", **LIMITS)
    assert public_site.paths == ["/go"]  # the first hop was fetched
    assert pages.requests == []  # the second never


async def test_a_redirect_to_the_metadata_service_is_refused(monkeypatch, public_site):
    fake_dns(monkeypatch, {"public.example": ["127.0.0.2"]})
    treat_as_public(monkeypatch, "127.0.0.2")
    public_site.redirect("/go", "http://169.254.169.254/latest/meta-data/")
    with pytest.raises(Refused, match="169.254.169.254 is a link-local address"):
        await fetch_public(f"http://public.example:{public_site.port}/go", **LIMITS)


async def test_dns_rebinding_connects_to_the_address_checked(monkeypatch, public_site):
    """The name answers a public address first and loopback afterwards: the guard resolves once,
    checks that answer and connects to it, so the internal server on the same port is never
    reached (a guard that checked and then let the client resolve again would reach it)."""
    try:
        internal = PageServer(host="127.0.0.1", port=public_site.port).start()
    except OSError:
        pytest.skip("the port is taken on 127.0.0.1")
    try:
        answers = iter([["127.0.0.2"]])
        asked = fake_dns(monkeypatch, {"rebind.example": lambda: next(answers, ["127.0.0.1"])})
        treat_as_public(monkeypatch, "127.0.0.2")
        public_site.page("/", "public")
        internal.page("/", "internal")
        page = await fetch_public(f"http://rebind.example:{public_site.port}/", **LIMITS)
        assert page.body == b"public"
        assert asked == ["rebind.example"]
        assert internal.requests == []
        # Its next answer (loopback) is refused on the next fetch: each connection is checked.
        with pytest.raises(Refused, match="rebind.example resolves to 127.0.0.1"):
            await fetch_public(f"http://rebind.example:{public_site.port}/", **LIMITS)
        assert internal.requests == []
    finally:
        internal.stop()


def self_signed(tmp_path, name: str) -> tuple[str, str]:
    """A certificate for ``name`` that is its own authority: (its PEM, the certificate file with its key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    path = tmp_path / "site.pem"
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path.write_text(pem + key_pem)
    return pem, str(path)


async def test_https_verifies_the_certificate_and_sni_against_the_name(monkeypatch, tmp_path):
    """Connected to the checked address, TLS still speaks to the name: its SNI, its certificate."""
    pem, certfile = self_signed(tmp_path, "public.example")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(certfile)
    names: list[str | None] = []
    server_context.sni_callback = lambda _socket, name, _context: names.append(name)
    try:
        site = PageServer(host="127.0.0.2")
    except OSError:
        pytest.skip("127.0.0.2 cannot be bound here")
    site.socket = server_context.wrap_socket(site.socket, server_side=True)
    site.start()
    try:
        fake_dns(monkeypatch, {"public.example": ["127.0.0.2"]})
        treat_as_public(monkeypatch, "127.0.0.2")
        monkeypatch.setattr(ssrf, "_ssl_context", lambda: ssl.create_default_context(cadata=pem))
        site.page("/", "over TLS")
        page = await fetch_public(f"https://public.example:{site.port}/", **LIMITS)
        assert page.body == b"over TLS"
        assert names == ["public.example"]
        with pytest.raises(FetchFailed, match="certificate"):  # the address is not the certificate's name
            await fetch_public(f"https://127.0.0.2:{site.port}/", **LIMITS)
    finally:
        site.stop()


async def test_a_host_that_does_not_resolve_fails(monkeypatch):
    fake_dns(monkeypatch, {"nowhere.example": []})
    with pytest.raises(FetchFailed, match="nowhere.example could not be resolved"):
        await fetch_public("http://nowhere.example/", **LIMITS)


async def test_a_server_that_does_not_answer_fails_within_the_timeout():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never answers
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(FetchFailed, match="did not answer within 0.5 s"):
            await fetch_public(
                f"http://127.0.0.1:{silent.getsockname()[1]}/", max_bytes=1000, timeout=0.5, allow_private=True
            )
        assert loop.time() - started < 2
    finally:
        silent.close()
