"""``GET /api/v1/auth/password-rules``: the rules the server enforces, in the request's language,
made from ``AUTH_PASSWORD_VALIDATORS`` (one source: the same validators refuse a password)."""

import pytest
from django.test import override_settings

from accounts.models import UserSettings

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/password-rules"
REGISTER = "/api/v1/auth/register"

ENGLISH = [
    {"code": "min_length", "text": "At least 8 characters"},
    {"code": "digit", "text": "At least one digit"},
    {"code": "uppercase", "text": "At least one upper-case letter"},
    {"code": "not_common", "text": "Not a commonly used password"},
    {"code": "not_numeric", "text": "Not entirely numeric"},
    {"code": "not_similar", "text": "Not too similar to your email or name"},
]
KOREAN = [
    {"code": "min_length", "text": "8자 이상"},
    {"code": "digit", "text": "숫자 1개 이상"},
    {"code": "uppercase", "text": "영문 대문자 1개 이상"},
    {"code": "not_common", "text": "흔히 쓰이는 비밀번호는 사용할 수 없음"},
    {"code": "not_numeric", "text": "숫자로만 된 비밀번호는 사용할 수 없음"},
    {"code": "not_similar", "text": "이메일이나 이름과 비슷한 비밀번호는 사용할 수 없음"},
]


def test_the_rules_in_english_and_korean(api_client):
    english = api_client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    korean = api_client.get(URL, HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9")

    assert english.status_code == korean.status_code == 200
    assert english.json() == {"rules": ENGLISH}
    assert korean.json() == {"rules": KOREAN}


def test_a_signed_in_users_saved_language_chooses(user_client, user):
    UserSettings.objects.filter(user=user).update(language="ko")
    assert user_client.get(URL, HTTP_ACCEPT_LANGUAGE="en").json() == {"rules": KOREAN}


def test_a_stale_token_does_not_stop_a_public_read(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.forged")
    assert api_client.get(URL).status_code == 200


# Every rule shown is one the server enforces: a password breaking only that rule is refused.
BREAKS_ONLY = {
    "min_length": "Ab1xyzq",
    "digit": "Abcdefghij",
    "uppercase": "abcdefgh12",
    "not_common": "Password1",
    "not_similar": "Rulebreaker9",  # the email below
}


@pytest.mark.parametrize("code", sorted(BREAKS_ONLY))
def test_each_rule_shown_is_enforced(api_client, code):
    codes = [rule["code"] for rule in api_client.get(URL).json()["rules"]]
    assert code in codes
    r = api_client.post(REGISTER, {"email": "rulebreaker9@example.com", "password": BREAKS_ONLY[code]})
    assert r.status_code == 400, r.content
    assert list(r.json()) == ["password"]


def test_the_rules_follow_the_configured_validators(api_client):
    validators = [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
        {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    ]
    with override_settings(AUTH_PASSWORD_VALIDATORS=validators):
        assert api_client.get(URL).json() == {
            "rules": [
                {"code": "min_length", "text": "At least 12 characters"},
                {"code": "not_numeric", "text": "Not entirely numeric"},
            ]
        }
        assert api_client.get(URL, HTTP_ACCEPT_LANGUAGE="ko").json()["rules"][0]["text"] == "12자 이상"


class _NoSpaces:
    def validate(self, password, user=None):
        pass

    def get_help_text(self):
        return "Your password cannot contain spaces."


def test_a_validator_without_a_short_hint_shows_its_help_text(api_client):
    validators = [{"NAME": f"{__name__}._NoSpaces"}]
    with override_settings(AUTH_PASSWORD_VALIDATORS=validators):
        assert api_client.get(URL).json() == {
            "rules": [{"code": "_NoSpaces", "text": "Your password cannot contain spaces."}]
        }
