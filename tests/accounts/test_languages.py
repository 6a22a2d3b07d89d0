"""The API speaks the user's language: their saved ``language``, else ``Accept-Language``, else
``LANGUAGE_CODE``; an error's ``code`` never changes with it (accounts/preferences.py)."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import UserSettings

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
SETTINGS = "/api/v1/user/settings"
API_KEYS = "/api/v1/api-keys"


def _save_language(user, language: str) -> None:
    UserSettings.objects.filter(user=user).update(language=language)


def _wrong_password(api_client, language: str | None):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    return api_client.post(LOGIN, {"email": "nobody@example.com", "password": "Wrong-pass-1"}, **headers)


def test_accept_language_ko_gives_korean_detail_with_the_same_code(api_client, db):
    english = _wrong_password(api_client, "en-US,en;q=0.9")
    korean = _wrong_password(api_client, "ko-KR,ko;q=0.9,en-US;q=0.8")

    assert english.json() == {"detail": "Invalid email or password.", "code": "invalid_credentials"}
    assert korean.status_code == english.status_code == 401
    assert korean.json() == {"detail": "이메일 또는 비밀번호가 올바르지 않습니다.", "code": "invalid_credentials"}
    assert korean["Content-Language"] == "ko"


def test_no_or_an_unsupported_accept_language_falls_back_to_language_code(api_client, db, settings):
    assert _wrong_password(api_client, None).json()["detail"] == "Invalid email or password."
    assert _wrong_password(api_client, "fr-FR,de;q=0.8").json()["detail"] == "Invalid email or password."
    with override_settings(LANGUAGE_CODE="ko"):
        assert _wrong_password(api_client, "fr-FR").json()["detail"] == "이메일 또는 비밀번호가 올바르지 않습니다."


def _too_many_keys_body(client, **headers):
    # A validation message of a service (accounts.services), through the one error shape.
    return client.post(API_KEYS, {"name": "k", "expires_at": "2000-01-01T00:00:00Z"}, format="json", **headers)


def test_the_users_saved_language_wins_over_accept_language(user_client, user):
    _save_language(user, "ko")
    korean = _too_many_keys_body(user_client, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert korean.status_code == 400
    assert korean.json() == {"expires_at": ["만료 시각은 현재보다 뒤여야 합니다."]}

    _save_language(user, "en")
    english = _too_many_keys_body(user_client, HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9")
    assert english.json() == {"expires_at": ["The expiry must be in the future."]}


def test_without_a_saved_language_the_browsers_is_used(user_client, user):
    _save_language(user, "")
    r = _too_many_keys_body(user_client, HTTP_ACCEPT_LANGUAGE="ko")
    assert r.json() == {"expires_at": ["만료 시각은 현재보다 뒤여야 합니다."]}


def test_an_unsupported_saved_language_falls_back(user_client, user):
    # A language the service no longer speaks (removed from LANGUAGES): the browser's, then LANGUAGE_CODE.
    _save_language(user, "fr")
    assert _too_many_keys_body(user_client, HTTP_ACCEPT_LANGUAGE="ko").json()["expires_at"] == [
        "만료 시각은 현재보다 뒤여야 합니다."
    ]
    assert _too_many_keys_body(user_client).json()["expires_at"] == ["The expiry must be in the future."]


def test_a_domain_error_keeps_its_code_in_korean(user_client, user):
    _save_language(user, "ko")
    r = user_client.patch(SETTINGS, {"plan": "pro"}, format="json")

    assert r.status_code == 403
    assert r.json() == {
        "detail": "'pro' 요금제는 직접 선택할 수 없습니다. 관리자가 부여하는 요금제입니다.",
        "code": "plan_not_selectable",
    }


def test_the_frameworks_own_messages_are_korean_too(api_client, user_client, user):
    # DRF (not signed in; a required field), simplejwt (a forged token): their catalogs' Korean.
    r = api_client.get(SETTINGS, HTTP_ACCEPT_LANGUAGE="ko")
    assert r.json() == {"detail": "자격 인증 데이터가 제공되지 않았습니다.", "code": "not_authenticated"}
    r = api_client.post(LOGIN, {"email": "a@example.com"}, format="json", HTTP_ACCEPT_LANGUAGE="ko")
    assert r.json() == {"password": ["이 필드는 필수 항목입니다."]}
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    r = api_client.get(SETTINGS, HTTP_ACCEPT_LANGUAGE="ko")
    assert r.status_code == 401
    assert r.json()["code"] == "token_not_valid"
    assert r.json()["detail"] == "이 토큰은 모든 타입의 토큰에 대해 유효하지 않습니다"


def test_allauth_messages_are_korean(client, user):
    r = client.post(
        "/_allauth/app/v1/auth/password/request",
        {"email": "not-an-email"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="ko",
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["message"] == "유효한 이메일 주소를 입력하세요."


# --- language and time zone in /user/settings -------------------------------------------------


def test_a_saved_language_is_used_from_the_next_request_on(user_client, user):
    # Exactly the codes of the schema's enum: "ko-KR" is a 400 (tests/accounts/test_settings_api.py).
    r = user_client.patch(SETTINGS, {"language": "ko"}, format="json")

    assert r.status_code == 200, r.content
    assert r.json()["language"] == "ko"
    assert UserSettings.objects.get(user=user).language == "ko"
    # From the next request on, the API answers in it.
    assert _too_many_keys_body(user_client).json()["expires_at"] == ["만료 시각은 현재보다 뒤여야 합니다."]


def test_an_unsupported_language_is_a_400_naming_the_field(user_client, user):
    r = user_client.patch(SETTINGS, {"language": "xx"}, format="json", HTTP_ACCEPT_LANGUAGE="ko")

    assert r.status_code == 400
    assert list(r.json()) == ["language"]
    assert "xx" in r.json()["language"][0]
    assert UserSettings.objects.get(user=user).language == ""


@pytest.mark.parametrize("zone", ["Asia/Seoul", "America/New_York", ""])
def test_a_known_time_zone_is_saved(user_client, user, zone):
    r = user_client.patch(SETTINGS, {"time_zone": zone}, format="json")

    assert r.status_code == 200, r.content
    assert r.json()["time_zone"] == zone
    assert UserSettings.objects.get(user=user).time_zone == zone


@pytest.mark.parametrize("zone", ["Mars/Base", "asia/seoul ", "../../etc/passwd", "x" * 65])
def test_an_unknown_time_zone_is_a_400_naming_the_field(user_client, user, zone):
    r = user_client.patch(SETTINGS, {"time_zone": zone}, format="json")

    assert r.status_code == 400, r.content
    assert list(r.json()) == ["time_zone"]
    assert UserSettings.objects.get(user=user).time_zone == ""


def test_the_sign_in_lockout_in_korean(user, client):
    attacker = APIClient(REMOTE_ADDR="203.0.113.7")
    for _ in range(10):
        attacker.post(LOGIN, {"email": user.email, "password": "Wrong-Guess-1"})

    r = attacker.post(LOGIN, {"email": user.email, "password": "Wrong-Guess-1"}, HTTP_ACCEPT_LANGUAGE="ko")

    assert r.status_code == 429
    assert r.json() == {
        "detail": "로그인 실패가 너무 많습니다. 15분 후에 다시 시도해 주세요.",
        "code": "too_many_failed_logins",
    }
    page = client.post(
        "/admin/login/",
        {"username": user.email, "password": "Wrong-Guess-1"},
        REMOTE_ADDR="203.0.113.7",
        HTTP_ACCEPT_LANGUAGE="ko",
    )
    assert page.status_code == 429
    html = page.content.decode()
    assert "로그인 실패가 너무 많습니다." in html
    assert "로그인으로 돌아가기" in html
    assert "로그인 잠김" in html
