import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from conversations.models import Conversation
from sharing import services
from sharing.models import Share

from .factories import conversation_with_messages

pytestmark = pytest.mark.django_db

HOSTILE = [
    "<script>alert(1)</script>",
    "[click me](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(2)">raw link</a>',
    "![pic](javascript:alert(3))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
]


class _TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict]]:
    parser = _TagCollector()
    parser.feed(html)
    return parser.tags


@pytest.fixture
def hostile_share(user):
    pairs = [(text, text) for text in HOSTILE]
    pairs.append(
        ("show code", "Here:\n\n```python\nprint('<b>hi</b>')\n```\n\nand a [safe link](https://example.com).")
    )
    conversation = conversation_with_messages(owner=user, pairs=pairs, title="<script>alert('title')</script>")
    return services.share_create(user=user, conversation=conversation)


def test_page_renders_and_sets_protective_headers(client, hostile_share):
    response = client.get(f"/share/{hostile_share.pk}/")
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    # One script runs: the page's own, by this response's nonce; nothing inline, nothing else.
    nonce = re.search(r"script-src 'nonce-([\w-]+)'", csp).group(1)
    scripts = [attrs for tag, attrs in _tags(response.content.decode()) if tag == "script"]
    assert scripts == [{"src": "/static/client/share.js", "nonce": nonce, "defer": None}]
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert client.get(f"/share/{hostile_share.pk}/")["Content-Security-Policy"] != csp  # a fresh nonce


def test_page_lets_no_hostile_content_through(client, hostile_share, user):
    html = client.get(f"/share/{hostile_share.pk}/").content.decode()
    tags = _tags(html)
    assert not [t for t, _ in tags if t in {"iframe", "object", "embed"}]
    assert [attrs["src"] for t, attrs in tags if t == "script"] == ["/static/client/share.js"]  # the page's own
    for tag, attrs in tags:
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        for name in ("href", "src", "action"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:text", "vbscript:")), (tag, attrs)
    assert not [attrs for tag, attrs in tags if tag == "img" and attrs.get("src") == "x"]
    # Shown as text instead, so nothing a user wrote is lost.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "SECRET-SYSTEM-PROMPT" not in html and user.email not in html


def test_page_renders_markdown_code_blocks_and_safe_links(client, hostile_share):
    html = client.get(f"/share/{hostile_share.pk}/").content.decode()
    assert '<pre><code class="language-python">' in html
    assert "print(&#x27;&lt;b&gt;hi&lt;/b&gt;&#x27;)" in html or "print('&lt;b&gt;hi&lt;/b&gt;')" in html
    links = [attrs for tag, attrs in _tags(html) if tag == "a" and attrs.get("href") == "https://example.com"]
    assert links and links[0]["rel"] == "nofollow noopener noreferrer"


def test_page_counts_views(client, hostile_share):
    client.get(f"/share/{hostile_share.pk}/")
    client.get(f"/share/{hostile_share.pk}/")
    hostile_share.refresh_from_db()
    assert hostile_share.view_count == 2


def test_revoked_share_page_is_404(client, hostile_share):
    services.share_revoke(share=hostile_share)
    response = client.get(f"/share/{hostile_share.pk}/")
    assert response.status_code == 404
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "alert" not in response.content.decode()


def test_expired_share_page_is_404(client, hostile_share):
    Share.objects.filter(pk=hostile_share.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(f"/share/{hostile_share.pk}/").status_code == 404


def test_unknown_share_page_is_404(client):
    assert client.get("/share/nothing-here/").status_code == 404


def test_anonymous_reader_is_shown_no_api_instructions(client, hostile_share):
    html = client.get(f"/share/{hostile_share.pk}/").content.decode()
    assert "/clone" not in html and "Bearer" not in html and "/api/v1/" not in html
    assert "<form" not in html


def test_a_signed_in_reader_is_shown_the_clone_endpoint(outsider, hostile_share):
    client = Client()
    client.force_login(outsider)
    html = client.get(f"/share/{hostile_share.pk}/").content.decode()
    assert f"/api/v1/shares/{hostile_share.pk}/clone" in html


def test_the_page_speaks_the_readers_language_and_names_the_site(client, hostile_share, settings):
    settings.SITE_NAME = "채팅 서비스"
    response = client.get(f"/share/{hostile_share.pk}/", HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9")
    html = response.content.decode()
    assert '<html lang="ko">' in html
    assert "대화 이어 가기" in html and "공유한 날짜" in html and "Continue this conversation" not in html
    assert "채팅 서비스</a>" in html and "<title>" in html and "· 채팅 서비스</title>" in html
    assert 'data-copy="복사"' in html
    english = client.get(f"/share/{hostile_share.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in english and "Continue this conversation" in english


def test_the_time_is_in_utc_with_its_zone_or_in_the_signed_in_readers_zone(outsider, hostile_share):
    hostile_share.created_at = datetime(2026, 12, 6, 15, 5, tzinfo=UTC)
    hostile_share.save(update_fields=["created_at"])
    html = Client().get(f"/share/{hostile_share.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<time datetime="2026-12-06T15:05:00Z">Dec. 6, 2026, 3:05 p.m. (UTC)</time>' in html

    outsider.settings.time_zone = "Asia/Seoul"
    outsider.settings.language = "ko"
    outsider.settings.save(update_fields=["time_zone", "language"])
    client = Client()
    client.force_login(outsider)
    html = client.get(f"/share/{hostile_share.pk}/").content.decode()
    # 00:05 on December 7 for a reader in Seoul.
    assert '<time datetime="2026-12-06T15:05:00Z">2026년 12월 7일 12:05 오전 (Asia/Seoul)</time>' in html, re.search(
        r"<time.*?</time>", html
    ).group(0)


def test_head_does_not_count_a_view(client, hostile_share):
    assert client.head(f"/share/{hostile_share.pk}/").status_code == 200
    hostile_share.refresh_from_db()
    assert hostile_share.view_count == 0


def test_signed_in_visitor_continues_the_conversation(outsider, hostile_share):
    # A real browser's CSRF round trip: token from the confirmation page, Origin on the POST.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(outsider)
    continue_path = f"/share/{hostile_share.pk}/continue/"
    page = browser.get(f"/share/{hostile_share.pk}/").content.decode()
    assert [a for t, a in _tags(page) if t == "a" and a.get("href") == continue_path]

    confirm = browser.get(continue_path)
    assert confirm.status_code == 200
    # This page must not send "no-referrer": browsers would then POST with "Origin: null".
    assert confirm.get("Referrer-Policy") != "no-referrer"
    forms = [attrs for tag, attrs in _tags(confirm.content.decode()) if tag == "form"]
    assert forms == [{"method": "post", "action": continue_path}]
    token = browser.cookies["csrftoken"].value

    response = browser.post(continue_path, {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="http://testserver")
    assert response.status_code == 302
    clone = Conversation.objects.get(owner=outsider)
    assert (clone.origin_kind, clone.origin_id) == ("share", hostile_share.pk)
    assert response["Location"] == f"/admin/conversations/conversation/{clone.pk}/change/"
    assert clone.messages.count() == hostile_share.message_count


def test_continue_when_signed_out_goes_to_login_and_clones_nothing(client, hostile_share):
    continue_path = f"/share/{hostile_share.pk}/continue/"
    for response in (client.get(continue_path), client.post(continue_path)):
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    assert not Conversation.objects.filter(origin_kind="share").exists()


def test_continue_a_revoked_share_is_404(outsider, hostile_share):
    services.share_revoke(share=hostile_share)
    browser = Client()
    browser.force_login(outsider)
    assert browser.post(f"/share/{hostile_share.pk}/continue/").status_code == 404
    assert not Conversation.objects.filter(owner=outsider).exists()


def test_page_links_continue_to_the_reference_client(client, hostile_share):
    # The reference client at / clones the share for whoever signs in there (?continue_share=<id>).
    html = client.get(f"/share/{hostile_share.pk}/").content.decode()
    links = [attrs.get("href") for tag, attrs in _tags(html) if tag == "a"]
    assert f"/?continue_share={hostile_share.pk}" in links
    assert client.get("/").status_code == 200
    # The client's bundle (frontend/src/main.js) reads the parameter and clones (the browser test
    # in tests/config/test_web_client.py follows the link).
    client_source = (Path(settings.BASE_DIR) / "frontend" / "src" / "main.js").read_text()
    assert 'params.get("continue_share")' in client_source
    assert "`${path}/clone`" in client_source and "confirmDialog" in client_source


def test_remote_images_in_replies_are_links_never_loaded(client, user):
    # A reply's image would tell its host the address of every reader of the share.
    pixel = "https://tracker.example/pixel.png?reader=1"
    conversation = conversation_with_messages(owner=user, pairs=[("img", f"See ![a chart]({pixel}) here.")])
    share = services.share_create(user=user, conversation=conversation)
    response = client.get(f"/share/{share.pk}/")
    tags = _tags(response.content.decode())
    assert not [attrs for tag, attrs in tags if tag == "img"]
    assert ("a", {"href": pixel, "rel": "nofollow noopener noreferrer"}) in [
        (tag, {k: v for k, v in attrs.items() if k in ("href", "rel")}) for tag, attrs in tags
    ]
    img_src = next(part for part in response["Content-Security-Policy"].split(";") if "img-src" in part)
    assert "https:" not in img_src and "http:" not in img_src
