"""The admin in Korean for a staff member whose language is ko (saved, or the browser's), with
times in their zone and the zone named: our labels, the dashboards, actions and their messages,
the guard's refusals; Django's own words from Django's catalog."""

import re
from datetime import UTC, datetime

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from accounts import services
from accounts.models import User
from tests.conversations.factories import ConversationFactory, LLMModelFactory, turn

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    user = User.objects.create_superuser(email="root@example.com", password="Admin-pass-1")
    row = services.user_settings_get(user=user)
    row.language, row.time_zone = "ko", "Asia/Seoul"
    row.save(update_fields=["language", "time_zone"])
    return user


@pytest.fixture
def korean_web(root) -> Client:
    client = Client()
    client.force_login(root)
    return client


@pytest.fixture
def member(db):
    return services.user_create(email="member@example.com", password="Member-pass-42")


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_dashboard_and_sidebar_in_korean_with_the_zone_named(korean_web, member):
    turn(ConversationFactory(owner=member))
    html = korean_web.get("/admin/").content.decode()
    assert '<html lang="ko"' in html
    for korean in ("대시보드", "개요", "사용자", "모델 카탈로그", "오늘 메시지", "일별 메시지", "운영 콘솔"):
        assert korean in html, korean
    assert "Asia/Seoul" in html  # the subheader names the zone of every time shown
    assert "Messages today" not in html and "Usage details" not in html
    # unfold's own words, which it ships no catalog for (console/unfold_words.py).
    assert "앱과 모델 검색..." in html and "Search apps and models" not in html

    usage = korean_web.get("/admin/usage/").content.decode()
    assert "사용량 대시보드" in usage and "모델별 답변" in usage and "날짜(Asia/Seoul)" in usage
    assert "Replies per model" not in usage


def test_a_time_on_a_users_page_is_in_seoul(korean_web, member):
    member.last_login = datetime(2026, 12, 6, 15, 5, tzinfo=UTC)  # 00:05 on December 7 in Seoul
    member.save(update_fields=["last_login"])
    html = korean_web.get(f"/admin/accounts/user/{member.pk}/change/").content.decode()
    assert "한눈에 보기" in html
    assert re.search(r"2026년 12월 7일 12:05 오전 Asia/Seoul \(로그인\)", html), re.findall(r"2026년[^<]*", html)


def test_actions_and_their_messages_in_korean(korean_web, member):
    model = LLMModelFactory(slug="off", enabled=False)
    response = korean_web.post(
        "/admin/conversations/llmmodel/",
        {"action": "enable", "_selected_action": [model.pk]},
        follow=True,
    )
    assert "모델 1개를 사용하도록 설정했습니다." in texts(response)

    page = korean_web.get(f"/admin/accounts/user/{member.pk}/change/").content.decode()
    assert "비활성화" in page and "오늘 할당량 초기화" in page  # the buttons
    confirm = korean_web.get(f"/admin/accounts/user/{member.pk}/deactivate/").content.decode()
    assert "이 사용자를 비활성화할까요?" in confirm and "취소" in confirm


def test_the_guards_refusals_in_korean(korean_web, root):
    response = korean_web.get(f"/admin/accounts/user/{root.pk}/deactivate/", follow=True)
    assert texts(response) == ["자신의 계정에는 이 작업(비활성화)을 할 수 없습니다. 다른 스태프에게 요청하세요."]


def test_the_browsers_language_when_none_is_saved(member):
    staff = User.objects.create_superuser(email="boss@example.com", password="Admin-pass-1")
    client = Client(HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9")
    client.force_login(staff)
    assert "대시보드" in client.get("/admin/").content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(staff)
    html = english.get("/admin/").content.decode()
    assert "Messages today" in html and "times in UTC" in html
