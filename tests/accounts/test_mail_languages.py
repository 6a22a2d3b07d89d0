"""Mails speak the recipient's language (their saved one, else the request's) and name the site
from ``settings.SITE_NAME``, never the ``django.contrib.sites`` row ("example.com")."""

import pytest
from django.core import mail
from django.test import Client

from accounts.models import UserSettings

pytestmark = pytest.mark.django_db

RESET_REQUEST = "/_allauth/app/v1/auth/password/request"
REGISTER = "/api/v1/auth/register"


def _ask_for_a_reset(email: str, accept_language: str) -> mail.EmailMessage:
    r = Client().post(
        RESET_REQUEST, {"email": email}, content_type="application/json", HTTP_ACCEPT_LANGUAGE=accept_language
    )
    assert r.status_code == 200, r.content
    assert len(mail.outbox) == 1
    return mail.outbox.pop()


def test_the_reset_mail_in_english(user, settings):
    settings.SITE_NAME = "Acme Chat"
    sent = _ask_for_a_reset(user.email, "en-US,en;q=0.9")

    assert sent.subject == "[Acme Chat] Reset your password"
    assert sent.body.startswith("Hello from Acme Chat!")
    assert "asked to reset the password of your account" in sent.body
    assert "The link works once, within 60 minutes." in sent.body
    assert "Thank you for using Acme Chat!\ntestserver" in sent.body
    assert "example.com" not in sent.subject + sent.body.replace(user.email, "")


def test_the_reset_mail_in_the_requests_language(user, settings):
    settings.SITE_NAME = "채팅"
    sent = _ask_for_a_reset(user.email, "ko-KR,ko;q=0.9")

    assert sent.subject == "[채팅] 비밀번호 재설정"
    assert "채팅" in sent.body.splitlines()[0]
    assert "계정의 비밀번호 재설정을 요청하여 이 메일을 보내 드립니다." in sent.body
    assert "이 링크는 60분 안에 한 번만 사용할 수 있습니다." in sent.body
    assert "새 비밀번호를 설정하면 모든 기기에서 로그아웃되고" in sent.body
    assert "http://testserver/reset-password#key=" in sent.body
    assert "example.com" not in sent.body.replace(user.email, "")


def test_the_reset_mail_in_the_recipients_saved_language(user):
    UserSettings.objects.filter(user=user).update(language="ko")
    assert "비밀번호 재설정" in _ask_for_a_reset(user.email, "en").subject

    UserSettings.objects.filter(user=user).update(language="en")
    assert _ask_for_a_reset(user.email, "ko").subject == "[Chat] Reset your password"


def _register_again(api_client, email: str, accept_language: str) -> mail.EmailMessage:
    r = api_client.post(REGISTER, {"email": email, "password": "Another-Pass-7"}, HTTP_ACCEPT_LANGUAGE=accept_language)
    assert r.status_code == 202
    assert len(mail.outbox) == 1
    return mail.outbox.pop()


def test_the_registration_notice_in_english_and_korean(api_client, user, settings):
    settings.SITE_NAME = "Acme Chat"
    english = _register_again(api_client, user.email, "en")
    assert english.subject == "[Acme Chat] Someone tried to create an account with your email"
    assert "just tried to create an account at Acme Chat (http://testserver/)" in english.body

    api_client.post(REGISTER, {"email": "x@example.com", "password": "Another-Pass-7"})  # no mail
    from django.core.cache import cache

    cache.clear()  # the notice is sent at most once an hour per account
    korean = _register_again(api_client, user.email, "ko-KR")
    assert korean.subject == "[Acme Chat] 누군가 회원님의 이메일로 가입을 시도했습니다"
    assert f"이 이메일 주소({user.email})로 Acme Chat(http://testserver/)에 가입하려고 했습니다." in korean.body
    assert "본인이 아니라면 이 메일은 무시하셔도 됩니다." in korean.body


def test_the_registration_notice_in_the_owners_saved_language(api_client, user):
    UserSettings.objects.filter(user=user).update(language="ko")
    notice = _register_again(api_client, user.email, "en")
    assert notice.subject == "[Chat] 누군가 회원님의 이메일로 가입을 시도했습니다"
