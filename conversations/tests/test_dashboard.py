"""The staff usage dashboard: real figures, staff only, constant query count, ``?days=``."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Plan, UserSettings
from accounts.tests.factories import UserFactory
from conversations.models import MessageStatus, Role
from conversations.tests.factories import (
    AssistantMessageFactory,
    ConversationFactory,
    FeedbackFactory,
    LLMModelFactory,
    MessageFactory,
)
from conversations.usage import usage_dashboard_data
from sharing.models import Share

pytestmark = pytest.mark.django_db

URL = "/admin/usage/"


@pytest.fixture
def staff_web(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def row_html(html: str, attribute: str, value: str) -> str:
    match = re.search(rf'<tr {attribute}="{re.escape(value)}">(.*?)</tr>', html, re.S)
    assert match, f"no row {attribute}={value}"
    return match.group(1)


def cell(html: str, css_class: str) -> int:
    match = re.search(rf'<td class="num {css_class}">\s*(\d+)', html)
    assert match, f"no cell {css_class}"
    return int(match.group(1))


def day_figures(response, day):
    return next(row for row in response.context["per_day"] if row["day"] == day)


def test_url_name_resolves_before_the_admin_catch_all():
    assert reverse("admin-usage") == URL


def test_staff_sees_yesterdays_messages_in_yesterdays_row(staff_web, user):
    yesterday = timezone.now() - timedelta(days=1)
    conversation = ConversationFactory(owner=user)
    for _ in range(3):
        MessageFactory(conversation=conversation, created_at=yesterday)
    AssistantMessageFactory(conversation=conversation, created_at=yesterday)
    MessageFactory(conversation=conversation)  # today: must not land in yesterday's row

    response = staff_web.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    yesterday_row = row_html(html, "data-day", timezone.localdate(yesterday).isoformat())
    assert cell(yesterday_row, "user-messages") == 3
    assert cell(yesterday_row, "replies") == 1
    today_row = row_html(html, "data-day", timezone.localdate().isoformat())
    assert cell(today_row, "user-messages") == 1
    assert cell(today_row, "replies") == 0
    # The busiest figure gets the full bar; the chart is plain CSS (the admin's own theme script aside).
    assert 'style="width: 100%;"' in yesterday_row
    dashboard = html[html.index('id="content-main"') : html.index('id="usage-plans"')]
    assert "<script" not in dashboard
    assert "<link" not in dashboard
    assert len(response.context["per_day"]) == 14
    assert response.context["totals"]["messages"] == 4
    assert response.context["totals"]["active_users"] == 1


def test_messages_before_the_window_are_left_out(staff_web, user):
    conversation = ConversationFactory(owner=user)
    MessageFactory(conversation=conversation, created_at=timezone.now() - timedelta(days=20))
    MessageFactory(conversation=conversation, created_at=timezone.now() - timedelta(days=3))

    response = staff_web.get(URL, {"days": "7"})

    assert response.context["totals"]["messages"] == 1
    assert sum(row["user_messages"] for row in response.context["per_day"]) == 1
    wide = staff_web.get(URL, {"days": "30"})
    assert wide.context["totals"]["messages"] == 2


def test_totals_count_users_conversations_and_senders(staff_web, user, outsider):
    old_user = UserFactory()
    old_user.date_joined = timezone.now() - timedelta(days=60)
    old_user.save(update_fields=["date_joined"])
    ConversationFactory(owner=outsider)  # a conversation, but nothing sent in it
    MessageFactory(conversation=ConversationFactory(owner=user))

    totals = staff_web.get(URL).context["totals"]

    # staff, alice, charlie and the old user; only the old one joined before the window.
    assert totals == {"users": 4, "new_users": 3, "conversations": 2, "messages": 1, "active_users": 1}


def test_token_sums_latency_and_error_rate_per_model(staff_web, user):
    fast = LLMModelFactory(slug="fast-model", display_name="Fast")
    slow = LLMModelFactory(slug="slow-model", display_name="Slow")
    conversation = ConversationFactory(owner=user, model=fast)
    for prompt_tokens, completion_tokens, latency_ms in ((10, 5, 100), (20, 7, 300)):
        AssistantMessageFactory(
            conversation=conversation,
            model=fast,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_ms=latency_ms,
        )
    AssistantMessageFactory(
        conversation=conversation,
        model=fast,
        prompt_tokens=4,
        completion_tokens=1,
        latency_ms=None,
        status=MessageStatus.ERROR,
    )
    AssistantMessageFactory(
        conversation=conversation, model=fast, prompt_tokens=1, completion_tokens=0, status=MessageStatus.STREAMING
    )
    AssistantMessageFactory(conversation=conversation, model=slow, prompt_tokens=100, completion_tokens=50)
    MessageFactory(conversation=conversation, model=fast, prompt_tokens=999)  # user rows are not replies

    response = staff_web.get(URL)

    by_slug = {row["slug"]: row for row in response.context["per_model"]}
    assert by_slug["fast-model"]["replies"] == 4
    assert by_slug["fast-model"]["prompt_tokens"] == 35
    assert by_slug["fast-model"]["completion_tokens"] == 13
    assert by_slug["fast-model"]["avg_latency_ms"] == 200
    # One error out of three finished replies; the streaming one has not failed.
    assert by_slug["fast-model"]["error_rate"] == pytest.approx(1 / 3)
    assert by_slug["slow-model"]["prompt_tokens"] == 100
    assert by_slug["slow-model"]["error_rate"] == 0
    fast_row = row_html(response.content.decode(), "data-model", "fast-model")
    assert cell(fast_row, "prompt-tokens") == 35
    assert cell(fast_row, "completion-tokens") == 13
    assert "200 ms" in fast_row
    assert "33.3%" in fast_row


def test_replies_of_a_deleted_model_still_count(staff_web, user):
    gone = LLMModelFactory(slug="gone-model")
    AssistantMessageFactory(conversation=ConversationFactory(owner=user, model=gone), model=gone, prompt_tokens=8)
    gone.delete()

    per_model = staff_web.get(URL).context["per_model"]

    assert [(row["name"], row["prompt_tokens"]) for row in per_model] == [("(deleted model)", 8)]


def test_status_breakdown_counts_in_flight_replies_whenever_they_started(staff_web, user):
    conversation = ConversationFactory(owner=user)
    for status in ("complete", "complete", "stopped", "error", "interrupted", "pending", "streaming"):
        AssistantMessageFactory(conversation=conversation, status=status)
    long_ago = timezone.now() - timedelta(days=90)
    AssistantMessageFactory(conversation=conversation, status="streaming", created_at=long_ago)
    AssistantMessageFactory(conversation=conversation, status="error", created_at=long_ago)

    response = staff_web.get(URL)

    assert response.context["statuses"] == {
        "complete": 2,
        "stopped": 1,
        "error": 1,
        "interrupted": 1,
        "in_flight": 3,
    }
    assert re.search(r'data-status="in_flight">.*?<td class="num">3</td>', response.content.decode(), re.S)


def test_feedback_up_and_down(staff_web, user, outsider):
    reply = AssistantMessageFactory(conversation=ConversationFactory(owner=user))
    FeedbackFactory(message=reply, user=user, rating="up")
    FeedbackFactory(message=reply, user=outsider, rating="up")
    FeedbackFactory(message=AssistantMessageFactory(conversation=reply.conversation), user=user, rating="down")

    response = staff_web.get(URL)

    assert response.context["feedback"] == {"up": 2, "down": 1}
    html = response.content.decode()
    assert re.search(r'data-rating="up">.*?<td class="num">2</td>', html, re.S)
    assert re.search(r'data-rating="down">.*?<td class="num">1</td>', html, re.S)


def test_top_users_by_messages_with_their_plan(staff_web, user, outsider):
    pro = Plan.objects.get(slug="pro")
    UserSettings.objects.filter(user=user).update(plan=pro)
    for _ in range(3):
        MessageFactory(conversation=ConversationFactory(owner=user))
    MessageFactory(conversation=ConversationFactory(owner=outsider))
    AssistantMessageFactory(conversation=ConversationFactory(owner=outsider))  # replies are not "sent"
    AssistantMessageFactory(conversation=ConversationFactory(owner=outsider))
    quiet = [UserFactory() for _ in range(11)]
    for index, person in enumerate(quiet):
        sent_at = timezone.now() - timedelta(minutes=index)
        MessageFactory(conversation=ConversationFactory(owner=person), created_at=sent_at)

    response = staff_web.get(URL)

    top = response.context["top_users"]
    assert len(top) == 10
    assert (top[0]["email"], top[0]["plan"], top[0]["messages"]) == ("alice@example.com", pro.name, 3)
    assert all(row["messages"] == 1 for row in top[1:])
    assert cell(row_html(response.content.decode(), "data-user", "alice@example.com"), "messages") == 3


def test_shares_and_views(staff_web, user):
    Share.objects.create(owner=user, title="new", view_count=5)
    Share.objects.create(owner=user, title="also new", view_count=2)
    Share.objects.create(owner=user, title="old", view_count=40, created_at=timezone.now() - timedelta(days=60))

    shares = staff_web.get(URL).context["shares"]

    assert shares == {"created": 2, "views_of_new": 7, "views_all_time": 47}


def test_users_per_plan_includes_users_without_settings(staff_web, user, outsider):
    UserSettings.objects.filter(user=outsider).update(plan=Plan.objects.get(slug="plus"))
    UserSettings.objects.filter(user=user).delete()  # as for a user made by createsuperuser

    plans = {row["name"]: row["users"] for row in staff_web.get(URL).context["plans"]}

    free, plus = Plan.objects.get(slug="free"), Plan.objects.get(slug="plus")
    assert plans[free.name] == 1  # the staff user
    assert plans[plus.name] == 1
    assert plans["(no settings yet)"] == 1


@pytest.mark.parametrize("params", [{}, {"days": ""}, {"days": "14"}])
def test_default_window_is_fourteen_days(staff_web, params):
    response = staff_web.get(URL, params)

    assert response.status_code == 200
    assert response.context["days"] == 14
    assert len(response.context["per_day"]) == 14
    assert response.context["per_day"][-1]["day"] == timezone.localdate()


@pytest.mark.parametrize("days", [7, 30])
def test_window_choices(staff_web, days):
    response = staff_web.get(URL, {"days": str(days)})

    assert response.status_code == 200
    assert len(response.context["per_day"]) == days
    assert f'href="?days={days}" class="selected"' in response.content.decode()


@pytest.mark.parametrize("value", ["3", "0", "-7", "abc", "14.0", "9" * 40])
def test_other_windows_are_a_400_naming_the_parameter(staff_web, user, value):
    MessageFactory(conversation=ConversationFactory(owner=user))

    response = staff_web.get(URL, {"days": value})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="days-error"' in html
    assert "“days” must be one of 7, 14, 30" in html
    assert "per_day" not in response.context
    assert 'id="site-name"' in html  # still an admin page, with links to the valid windows
    assert 'href="?days=14"' in html


def test_anonymous_is_sent_to_the_admin_login(user):
    MessageFactory(conversation=ConversationFactory(owner=user), content="private words")

    response = Client().get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "next=/admin/usage/" in response["Location"]


def test_non_staff_is_sent_to_the_admin_login_and_sees_no_figures(user):
    MessageFactory(conversation=ConversationFactory(owner=user))
    client = Client()
    client.force_login(user)

    response = client.get(URL, {"days": "7"})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    followed = client.get(URL, follow=True)
    assert "usage-per-day" not in followed.content.decode()
    assert "totals" not in (followed.context or {})


def test_admin_index_links_to_the_dashboard(staff_web):
    response = staff_web.get("/admin/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{URL}"' in html
    # Above the app list, not buried under it.
    assert html.index('id="usage-dashboard-link"') < html.index('id="content-main"')


def make_activity(count: int) -> None:
    """``count`` users, each with a conversation, a message, a reply, feedback and a share."""
    model = LLMModelFactory(slug="busy-model")
    for index in range(count):
        owner = UserFactory()
        conversation = ConversationFactory(owner=owner, model=model)
        sent_at = timezone.now() - timedelta(days=index % 10, minutes=index)
        MessageFactory(conversation=conversation, created_at=sent_at)
        reply = AssistantMessageFactory(conversation=conversation, model=model, created_at=sent_at, latency_ms=50)
        FeedbackFactory(message=reply, user=owner, rating="up" if index % 2 else "down")
        Share.objects.create(owner=owner, source_conversation=conversation, title="s", view_count=index)
    # A second model too, so per-model rows grow with the data as well.
    other = LLMModelFactory(slug=f"other-model-{count}")
    AssistantMessageFactory(conversation=ConversationFactory(owner=owner, model=other), model=other)


def test_figures_cost_ten_queries_whatever_the_data(django_assert_num_queries):
    make_activity(1)
    # 1 users (all, new)  2 conversations  3 user messages and distinct senders
    # 4 messages per day  5 per model  6 reply statuses  7 feedback  8 top users
    # 9 shares  10 users per plan
    with django_assert_num_queries(10):
        small = usage_dashboard_data(days=14)
    make_activity(49)
    with django_assert_num_queries(10):
        large = usage_dashboard_data(days=14)
    assert large["totals"]["messages"] > small["totals"]["messages"]
    assert len(large["top_users"]) == 10


@pytest.mark.parametrize("superuser", [False, True])
def test_page_costs_the_same_queries_for_1_and_50_users(staff_user, superuser):
    # Beyond the 10 figure queries: the session and the user (admin_view), and for a staff user who
    # is not a superuser, their permissions (each_context builds the nav sidebar from them).
    staff_user.is_superuser = superuser
    staff_user.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(staff_user)

    make_activity(1)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    make_activity(49)
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL)
    assert response.status_code == 200
    assert response.context["totals"]["users"] == 51  # the staff user and 50 active ones
    assert len(many) == len(few)


def test_system_messages_count_neither_as_sent_nor_as_replies(staff_web, user):
    conversation = ConversationFactory(owner=user)
    MessageFactory(conversation=conversation, role=Role.SYSTEM)

    response = staff_web.get(URL)

    assert response.context["totals"]["messages"] == 0
    assert sum(row["user_messages"] + row["replies"] for row in response.context["per_day"]) == 0
