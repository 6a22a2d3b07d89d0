"""The daily quota turns over at the user's midnight (their saved ``time_zone``; UTC when none)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import Plan, UserSettings
from conversations.models import Message, MessageStatus
from conversations.quota import daily_usage
from tests.conversations.factories import ConversationFactory, LedgerEntryFactory, turn

pytestmark = pytest.mark.django_db

SEOUL = ZoneInfo("Asia/Seoul")  # UTC+9, no DST
SUBSCRIPTION = "/api/v1/user/settings/subscription"


def seoul(*args) -> datetime:
    return datetime(*args, tzinfo=SEOUL)


def row(user, time_zone: str) -> UserSettings:
    UserSettings.objects.filter(user=user).update(time_zone=time_zone)
    return UserSettings.objects.select_related("plan").get(user=user)


def test_a_seoul_users_day_turns_over_at_midnight_in_seoul(user):
    # 23:30 and 00:30 in Seoul are 14:30 and 15:30 UTC of one and the same UTC day.
    settings_row = row(user, "Asia/Seoul")
    LedgerEntryFactory(user=user, created_at=seoul(2026, 12, 6, 23, 30))
    before_midnight = daily_usage(settings_row=settings_row, now=seoul(2026, 12, 6, 23, 45))
    LedgerEntryFactory(user=user, created_at=seoul(2026, 12, 7, 0, 30))
    after_midnight = daily_usage(settings_row=settings_row, now=seoul(2026, 12, 7, 0, 45))

    assert before_midnight.messages_sent == 1
    assert before_midnight.resets_at == seoul(2026, 12, 7, 0, 0)
    assert after_midnight.messages_sent == 1  # only 00:30: 23:30 was yesterday in Seoul
    assert after_midnight.resets_at == seoul(2026, 12, 8, 0, 0)
    assert after_midnight.resets_at == datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def test_without_a_saved_zone_the_day_is_utcs(user):
    LedgerEntryFactory(user=user, created_at=seoul(2026, 12, 6, 23, 30))
    LedgerEntryFactory(user=user, created_at=seoul(2026, 12, 7, 0, 30))

    usage = daily_usage(settings_row=row(user, ""), now=seoul(2026, 12, 7, 0, 45))

    assert usage.messages_sent == 2  # both on 6 December, UTC
    assert usage.resets_at == datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def test_a_dst_day_is_counted_from_its_own_midnight(user):
    # New York's spring-forward day (8 March 2026) is 23 hours long; 00:00 is UTC-5 that day.
    new_york = ZoneInfo("America/New_York")
    LedgerEntryFactory(user=user, created_at=datetime(2026, 3, 8, 4, 59, tzinfo=UTC))  # 23:59 on the 7th
    LedgerEntryFactory(user=user, created_at=datetime(2026, 3, 8, 5, 0, tzinfo=UTC))  # 00:00 on the 8th

    usage = daily_usage(settings_row=row(user, "America/New_York"), now=datetime(2026, 3, 8, 23, 0, tzinfo=new_york))

    assert usage.messages_sent == 1
    assert usage.resets_at == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)  # midnight EDT, 23 hours later


def _seoul_midnight_today() -> datetime:
    return datetime.combine(timezone.now().astimezone(SEOUL).date(), datetime.min.time(), tzinfo=SEOUL)


def test_the_subscription_reports_the_seoul_users_day(user_client, user):
    midnight = _seoul_midnight_today()
    conversation = ConversationFactory(owner=user)
    turn(conversation, created_at=midnight)  # today in Seoul, its first instant
    turn(conversation, created_at=midnight - timedelta(microseconds=1))  # yesterday in Seoul
    row(user, "Asia/Seoul")

    usage = user_client.get(SUBSCRIPTION).json()["usage_today"]

    assert usage["messages_sent"] == 1
    # An instant; written with the user's offset (their zone is active for their requests).
    assert datetime.fromisoformat(usage["resets_at"]) == midnight + timedelta(days=1)
    assert usage["resets_at"].endswith("+09:00")


def test_sending_is_refused_until_the_users_midnight(user_client, user):
    Plan.objects.filter(slug="free").update(daily_message_limit=1)
    row(user, "Asia/Seoul")
    midnight = _seoul_midnight_today()
    conversation = ConversationFactory(owner=user)
    turn(conversation, created_at=midnight - timedelta(microseconds=1))  # yesterday in Seoul: free

    assert user_client.post(f"/api/v1/conversations/{conversation.pk}/messages", {"content": "one"}).status_code == 202
    Message.objects.filter(status=MessageStatus.PENDING).update(status=MessageStatus.COMPLETE)

    refused = user_client.post(f"/api/v1/conversations/{conversation.pk}/messages", {"content": "two"})
    assert refused.status_code == 429
    assert refused.json()["code"] == "daily_quota_exceeded"
    until_seoul_midnight = (midnight + timedelta(days=1) - timezone.now()).total_seconds()
    assert abs(int(refused["Retry-After"]) - until_seoul_midnight) <= 5
