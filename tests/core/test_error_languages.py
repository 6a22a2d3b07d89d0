"""core's own answers (errors outside DRF's views, body and JSON limits, throttles, pagination,
JSON types) in the request's language, their ``code`` unchanged."""

import asyncio
import json

import pytest
from django.test import Client

from core.body_limits import BodySizeLimitMiddleware, header_language
from core.exceptions import ServiceUnavailable

pytestmark = pytest.mark.django_db

KO = {"HTTP_ACCEPT_LANGUAGE": "ko-KR,ko;q=0.9,en;q=0.5"}


def test_an_unknown_api_path_in_korean(client):
    r = client.get("/api/v1/no-such-thing", **KO)
    assert r.status_code == 404
    assert r.json() == {"detail": "찾을 수 없습니다.", "code": "not_found"}
    assert client.get("/api/v1/no-such-thing").json() == {"detail": "Not found.", "code": "not_found"}


def test_json_nested_too_deeply_in_korean(client):
    body = "[" * 100 + "]" * 100
    r = client.post("/api/v1/auth/login", body, content_type="application/json", **KO)
    assert r.status_code == 400
    assert r.json() == {"detail": "JSON이 64단계보다 깊게 중첩되어 있습니다.", "code": "parse_error"}


def test_a_json_type_refusal_in_korean(user_client):
    r = user_client.patch("/api/v1/user/settings", {"push_notifications": "yes"}, format="json", **KO)
    assert r.status_code == 400
    assert r.json() == {"push_notifications": ["true 또는 false여야 합니다."]}


def test_a_page_number_out_of_range_in_korean(user_client):
    r = user_client.get("/api/v1/auth/devices?page_size=0", **KO)
    assert r.status_code == 400
    assert r.json() == {"page_size": ["1부터 100 사이의 정수를 입력해 주세요."]}


def test_throttled_in_korean(api_client, settings):
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "anon": "1/min"}
    settings.REST_FRAMEWORK = rest
    api_client.get("/api/v1/plans", **KO)
    r = api_client.get("/api/v1/plans", **KO)
    assert r.status_code == 429
    assert r.json()["code"] == "throttled"
    assert r.json()["detail"].startswith("요청이 제한되었습니다.")


def test_service_unavailable_is_said_in_the_active_language():
    from django.utils import translation

    with translation.override("ko"):
        assert ServiceUnavailable().detail == "서비스를 잠시 이용할 수 없습니다. 몇 초 후에 다시 시도해 주세요."
    with translation.override("en"):
        assert ServiceUnavailable().detail.startswith("The service is briefly unavailable")


def _too_large(headers):
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/auth/login",
        "headers": [(b"content-length", b"999999999"), *headers],
    }
    sent = []

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):  # never reached
        raise AssertionError

    asyncio.run(BodySizeLimitMiddleware(app)(scope, receive, send))
    return sent[0]["status"], json.loads(sent[1]["body"])


def test_a_body_too_large_in_the_headers_language(settings):
    limit = settings.REQUEST_MAX_BODY_BYTES
    status, body = _too_large([(b"accept-language", b"ko-KR,ko;q=0.9")])
    assert (status, body["code"]) == (413, "request_too_large")
    assert body["detail"] == f"요청 본문이 너무 큽니다. 이 엔드포인트는 최대 {limit}바이트까지 받습니다."
    status, body = _too_large([])
    assert body["detail"] == f"The request body is larger than this endpoint takes ({limit} bytes at most)."


@pytest.mark.parametrize(
    "header, language",
    [(b"ko", "ko"), (b"ko-KR,en;q=0.5", "ko"), (b"fr-FR,ko;q=0.5", "ko"), (b"fr", "en"), (b"", "en"), (b"*", "en")],
)
def test_the_language_of_a_header(header, language):
    assert header_language({"headers": [(b"accept-language", header)]}) == language


def test_the_client_page_speaks_the_browsers_language(settings):
    settings.SITE_NAME = "Acme Chat"
    korean = Client().get("/", **KO).content.decode()
    english = Client().get("/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()

    assert '<html lang="ko"' in korean
    assert "<title>Acme Chat</title>" in korean
    assert "이 채팅을 사용하려면 JavaScript가 필요합니다." in korean
    assert '<html lang="en"' in english
    assert "This chat needs JavaScript." in english
