"""The staff usage dashboard: real figures, staff only, constant query count, ``?days=``."""

import re
import secrets
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiKey, Plan, UserSettings
from console.usage import usage_dashboard_data
from conversations.models import MessageStatus, Role
from sharing.models import Share
from tests.accounts.factories import UserFactory
from tests.conversations.factories import (
    AssistantMessageFactory,
    ConversationFactory,
    FeedbackFactory,
    LLMModelFactory,
    MessageFactory,
    turn,
)

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
    match = re.search(rf'<td class="num {css_class}(?: [^"]*)?">\s*(\d+)', html)
    assert match, f"no cell {css_class}"
    return int(match.group(1))


def split(html: str, css_class: str) -> tuple[str, str]:
    """The (app, API key) figures written under a cell's total."""
    match = re.search(
        rf'<td class="num {css_class}">.*?<div class="usage-split">app <span class="app">(.*?)</span>'
        r' &middot; API key <span class="api">(.*?)</span>',
        html,
        re.S,
    )
    assert match, f"no split under {css_class}"
    return match.group(1), match.group(2)


def make_api_key(user, *, name: str = "laptop", prefix: str | None = None, **fields) -> ApiKey:
    """A key row made directly: only the hash of a secret is stored (no secret exists here)."""
    return ApiKey.objects.create(
        user=user,
        name=name,
        prefix=prefix or f"sk-{secrets.token_hex(4)}",
        key_hash=secrets.token_hex(32),
        **fields,
    )


def day_figures(response, day):
    return next(row for row in response.context["per_day"] if row["day"] == day)


def test_url_name_resolves_before_the_admin_catch_all():
    assert reverse("admin-usage") == URL


def test_staff_sees_yesterdays_messages_in_yesterdays_row(staff_web, user):
    yesterday = timezone.now() - timedelta(days=1)
    conversation = ConversationFactory(owner=user)
    for _ in range(3):
        turn(conversation, created_at=yesterday)
    turn(conversation)  # today: must not land in yesterday's row

    response = staff_web.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    yesterday_row = row_html(html, "data-day", timezone.localdate(yesterday).isoformat())
    assert cell(yesterday_row, "user-messages") == 3
    assert cell(yesterday_row, "replies") == 3
    today_row = row_html(html, "data-day", timezone.localdate().isoformat())
    assert cell(today_row, "user-messages") == 1
    assert cell(today_row, "replies") == 1
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
    turn(conversation, created_at=timezone.now() - timedelta(days=20))
    turn(conversation, created_at=timezone.now() - timedelta(days=3))

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
    turn(ConversationFactory(owner=user))

    totals = staff_web.get(URL).context["totals"]

    # staff, alice, charlie and the old user; only the old one joined before the window.
    assert totals == {
        "users": 4,
        "new_users": 3,
        "conversations": 2,
        "conversations_app": 2,
        "conversations_api": 0,
        "messages": 1,
        "messages_app": 1,
        "messages_api": 0,
        "replies": 1,
        "replies_app": 1,
        "replies_api": 0,
        "active_users": 1,
        "active_users_app": 1,
        "active_users_api": 0,
        "api_keys_used": 0,
    }


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

    assert [(row["name"], row["prompt_tokens"]) for row in per_model] == [("Models removed from the catalog", 8)]


def test_status_breakdown_counts_in_flight_replies_whenever_they_started(staff_web, user):
    conversation = ConversationFactory(owner=user)
    for status in ("complete", "complete", "stopped", "error", "interrupted", "pending", "streaming"):
        AssistantMessageFactory(conversation=conversation, status=status)
    long_ago = timezone.now() - timedelta(days=90)
    AssistantMessageFactory(conversation=conversation, status="streaming", created_at=long_ago)
    AssistantMessageFactory(conversation=conversation, status="error", created_at=long_ago)

    response = staff_web.get(URL)

    statuses = response.context["statuses"]
    assert {name: statuses[name] for name in ("complete", "stopped", "error", "interrupted", "in_flight")} == {
        "complete": 2,
        "stopped": 1,
        "error": 1,
        "interrupted": 1,
        "in_flight": 3,
    }
    assert all(statuses[f"{name}_api"] == 0 for name in ("complete", "stopped", "error", "interrupted", "in_flight"))
    assert re.search(r'data-status="in_flight">.*?<td class="num">3</td>', response.content.decode(), re.S)


def test_feedback_up_and_down(staff_web, user, outsider):
    reply = AssistantMessageFactory(conversation=ConversationFactory(owner=user))
    FeedbackFactory(message=reply, user=user, rating="up")
    FeedbackFactory(message=reply, user=outsider, rating="up")
    FeedbackFactory(message=AssistantMessageFactory(conversation=reply.conversation), user=user, rating="down")

    response = staff_web.get(URL)

    assert response.context["feedback"] == {"up": 2, "up_app": 2, "up_api": 0, "down": 1, "down_app": 1, "down_api": 0}
    html = response.content.decode()
    assert re.search(r'data-rating="up">.*?<td class="num">2</td>', html, re.S)
    assert re.search(r'data-rating="down">.*?<td class="num">1</td>', html, re.S)


def test_top_users_by_messages_with_their_plan(staff_web, user, outsider):
    pro = Plan.objects.get(slug="pro")
    UserSettings.objects.filter(user=user).update(plan=pro)
    for _ in range(3):
        turn(ConversationFactory(owner=user))
    for _ in range(2):
        turn(ConversationFactory(owner=outsider))
    quiet = [UserFactory() for _ in range(11)]
    for index, person in enumerate(quiet):
        sent_at = timezone.now() - timedelta(minutes=index)
        turn(ConversationFactory(owner=person), created_at=sent_at)

    response = staff_web.get(URL)

    top = response.context["top_users"]
    assert len(top) == 10
    assert (top[0]["email"], top[0]["plan"], top[0]["messages"]) == ("alice@example.com", pro.name, 3)
    assert (top[1]["email"], top[1]["messages"]) == ("charlie@example.com", 2)
    assert all(row["messages"] == 1 for row in top[2:])
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
    # In the sidebar's Overview group, on every admin page.
    assert f'href="{URL}"' in html


def test_usage_page_renders_inside_unfolds_layout(staff_web, user):
    MessageFactory(conversation=ConversationFactory(owner=user))

    html = staff_web.get(URL).content.decode()

    # unfold's stylesheet, page, sidebar and header; the page's sections inside its content.
    assert "unfold/css/styles.css" in html
    assert html.index('id="nav-sidebar"') < html.index('id="content"') < html.index('id="content-main"')
    assert "<title> Usage dashboard | Chat admin</title>" in html.replace("\n", "")
    # Styled from unfold's own variables (light and dark), with a link to the window's charts.
    assert "var(--color-base-200)" in html and "html.dark .usage-card" in html
    assert 'href="/admin/?days=14"' in html


def make_activity(count: int) -> None:
    """``count`` users, each with a conversation, a message, a reply, feedback and a share, and an
    API key with a conversation of its own (a message and a reply, rated too)."""
    model = LLMModelFactory(slug="busy-model")
    for index in range(count):
        owner = UserFactory()
        conversation = ConversationFactory(owner=owner, model=model)
        sent_at = timezone.now() - timedelta(days=index % 10, minutes=index)
        MessageFactory(conversation=conversation, created_at=sent_at)
        reply = AssistantMessageFactory(conversation=conversation, model=model, created_at=sent_at, latency_ms=50)
        FeedbackFactory(message=reply, user=owner, rating="up" if index % 2 else "down")
        Share.objects.create(owner=owner, source_conversation=conversation, title="s", view_count=index)
        key = make_api_key(owner, last_used_at=sent_at)
        by_api = ConversationFactory(owner=owner, model=model, api_key=key)
        MessageFactory(conversation=by_api, created_at=sent_at)
        api_reply = AssistantMessageFactory(conversation=by_api, model=model, created_at=sent_at, latency_ms=70)
        FeedbackFactory(message=api_reply, user=owner, rating="up")
    # A second model too, so per-model rows grow with the data as well.
    other = LLMModelFactory(slug=f"other-model-{count}")
    AssistantMessageFactory(conversation=ConversationFactory(owner=owner, model=other), model=other)


def test_figures_cost_twelve_queries_whatever_the_data(django_assert_num_queries):
    make_activity(1)
    # 1 users (all, new)  2 conversations  3 user messages, replies, distinct senders and keys
    # 4 messages per day  5 per model  6 reply statuses  7 feedback  8 top users  9 API keys
    # 10 shares  11 users per plan  12 storage per user. Every split by source is in the query of its total.
    with django_assert_num_queries(12):
        small = usage_dashboard_data(days=14)
    make_activity(49)
    with django_assert_num_queries(12):
        large = usage_dashboard_data(days=14)
    assert large["totals"]["messages"] > small["totals"]["messages"]
    assert (small["totals"]["replies_api"], large["totals"]["replies_api"]) == (1, 50)
    assert len(large["top_users"]) == 10
    assert (len(small["api_keys"]), len(large["api_keys"])) == (1, 20)  # the busiest 20 of 50


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
    assert response.context["totals"]["replies_api"] == 50
    assert response.content.decode().count("<tr data-key=") == 20
    assert len(many) == len(few)


def test_system_messages_count_neither_as_sent_nor_as_replies(staff_web, user):
    conversation = ConversationFactory(owner=user)
    MessageFactory(conversation=conversation, role=Role.SYSTEM)

    response = staff_web.get(URL)

    assert response.context["totals"]["messages"] == 0
    assert sum(row["user_messages"] + row["replies"] for row in response.context["per_day"]) == 0


def test_app_and_api_key_replies_are_counted_in_their_own_columns(staff_web, user, outsider):
    model = LLMModelFactory(slug="split-model")
    yesterday = timezone.now() - timedelta(days=1)
    in_app = ConversationFactory(owner=user, model=model)
    for _ in range(2):
        turn(in_app, prompt_tokens=10, completion_tokens=3, latency_ms=100)
    key = make_api_key(user, name="ci job", prefix="sk-abc1234")
    by_api = ConversationFactory(owner=user, model=model, api_key=key)
    for tokens, latency_ms in ((100, 300), (200, 500)):
        turn(by_api, prompt_tokens=tokens, completion_tokens=7, latency_ms=latency_ms)
    turn(by_api, prompt_tokens=1, completion_tokens=0, latency_ms=None, status="error")
    turn(by_api, created_at=yesterday, prompt_tokens=5, completion_tokens=5)
    turn(by_api, status="streaming", prompt_tokens=None, completion_tokens=None)
    # Another user: a message in the app today; their key was used only before the window.
    turn(ConversationFactory(owner=outsider))
    old = timezone.now() - timedelta(days=40)
    turn(ConversationFactory(owner=outsider, api_key=make_api_key(outsider)), created_at=old)

    response = staff_web.get(URL)

    totals = response.context["totals"]
    assert (totals["conversations"], totals["conversations_app"], totals["conversations_api"]) == (4, 2, 2)
    assert (totals["messages"], totals["messages_app"], totals["messages_api"]) == (8, 3, 5)
    assert (totals["replies"], totals["replies_app"], totals["replies_api"]) == (8, 3, 5)
    assert (totals["active_users"], totals["active_users_app"], totals["active_users_api"]) == (2, 2, 1)
    assert totals["api_keys_used"] == 1  # the outsider's key has no reply in the window
    html = response.content.decode()
    assert re.search(r'id="total-replies-app">3<', html) and re.search(r'id="total-replies-api">5<', html)
    assert re.search(r'id="total-messages-api">5<', html)

    today = row_html(html, "data-day", timezone.localdate().isoformat())
    assert [cell(today, name) for name in ("user-messages", "user-messages-app", "user-messages-api")] == [7, 3, 4]
    assert [cell(today, name) for name in ("replies", "replies-app", "replies-api")] == [7, 3, 4]
    assert 'class="api-part" style="width: 57%;"' in today  # 4 of the 7 replies through a key
    yesterday_row = row_html(html, "data-day", timezone.localdate(yesterday).isoformat())
    assert [cell(yesterday_row, name) for name in ("replies", "replies-app", "replies-api")] == [1, 0, 1]

    per_model = {row["slug"]: row for row in response.context["per_model"]}["split-model"]
    assert (per_model["replies"], per_model["replies_app"], per_model["replies_api"]) == (7, 2, 5)
    assert (per_model["prompt_tokens_app"], per_model["prompt_tokens_api"]) == (20, 306)
    assert (per_model["completion_tokens_app"], per_model["completion_tokens_api"]) == (6, 19)
    assert (per_model["avg_latency_ms_app"], per_model["avg_latency_ms_api"]) == (100, 400)
    # API: one error out of four finished replies (the streaming one has not finished).
    assert (per_model["error_rate_app"], per_model["error_rate_api"]) == (0, pytest.approx(1 / 4))
    model_row = row_html(html, "data-model", "split-model")
    assert split(model_row, "replies") == ("2", "5")
    assert split(model_row, "prompt-tokens") == ("20", "306")
    assert split(model_row, "latency") == ("100 ms", "400 ms")
    assert split(model_row, "error-rate") == ("0.0%", "25.0%")

    statuses = response.context["statuses"]
    assert (statuses["complete_app"], statuses["complete_api"]) == (3, 3)
    assert (statuses["error_app"], statuses["error_api"]) == (0, 1)
    assert (statuses["in_flight_app"], statuses["in_flight_api"]) == (0, 1)
    assert re.search(
        r'data-status="complete">.*?<td class="num">6</td><td class="num source app">3</td><td class="num api">3</td>',
        html,
    )

    top = {row["email"]: row for row in response.context["top_users"]}
    assert (top["alice@example.com"]["messages_app"], top["alice@example.com"]["messages_api"]) == (2, 5)
    alice_row = row_html(html, "data-user", "alice@example.com")
    assert [cell(alice_row, name) for name in ("messages", "messages-app", "messages-api")] == [7, 2, 5]

    [key_row] = response.context["api_keys"]
    assert (key_row["name"], key_row["prefix"], key_row["email"]) == ("ci job", "sk-abc1234", "alice@example.com")
    assert (key_row["replies"], key_row["failed"]) == (5, 1)
    assert (key_row["prompt_tokens"], key_row["completion_tokens"]) == (306, 19)


def test_feedback_on_api_key_replies_is_counted_apart(staff_web, user):
    by_api = ConversationFactory(owner=user, api_key=make_api_key(user))
    FeedbackFactory(message=AssistantMessageFactory(conversation=by_api), user=user, rating="down")
    FeedbackFactory(message=AssistantMessageFactory(conversation=ConversationFactory(owner=user)), user=user)

    feedback = staff_web.get(URL).context["feedback"]

    assert (feedback["down"], feedback["down_app"], feedback["down_api"]) == (1, 0, 1)
    assert (feedback["up"], feedback["up_app"], feedback["up_api"]) == (1, 1, 0)


def test_api_keys_table_shows_name_prefix_owner_and_use_never_the_hash(staff_web, user, outsider):
    used_at = timezone.now() - timedelta(hours=2)
    busy = make_api_key(user, name="ci job", prefix="sk-abc1234", last_used_at=used_at)
    revoked = make_api_key(outsider, name="old laptop", prefix="sk-def5678", revoked_at=timezone.now())
    expired = make_api_key(outsider, name="trial", prefix="sk-0ff1ce0", expires_at=timezone.now() - timedelta(days=1))
    idle = make_api_key(user, name="never used", prefix="sk-1d1e000")
    stale = make_api_key(user, name="last month", prefix="sk-57a1e00")
    for key, replies in ((busy, 3), (revoked, 2), (expired, 1)):
        conversation = ConversationFactory(owner=key.user, api_key=key)
        for _ in range(replies):
            AssistantMessageFactory(conversation=conversation, prompt_tokens=10, completion_tokens=4)
    old = timezone.now() - timedelta(days=40)
    AssistantMessageFactory(conversation=ConversationFactory(owner=user, api_key=stale), created_at=old)

    response = staff_web.get(URL)

    assert [row["prefix"] for row in response.context["api_keys"]] == ["sk-abc1234", "sk-def5678", "sk-0ff1ce0"]
    html = response.content.decode()
    busy_row = row_html(html, "data-key", "sk-abc1234")
    assert "ci job" in busy_row
    assert "sk-abc1234&hellip;" in busy_row
    assert "alice@example.com" in busy_row
    assert f'href="/admin/accounts/user/{user.pk}/change/"' in busy_row
    assert cell(busy_row, "replies") == 3
    assert cell(busy_row, "prompt-tokens") == 30
    assert cell(busy_row, "completion-tokens") == 12
    assert timezone.localtime(used_at).strftime("%Y-%m-%d %H:%M") in busy_row
    assert "key-state" not in busy_row
    revoked_row = row_html(html, "data-key", "sk-def5678")
    assert "charlie@example.com" in revoked_row
    assert "(revoked)" in revoked_row
    assert "(expired)" in row_html(html, "data-key", "sk-0ff1ce0")
    assert "—" in revoked_row  # never used, as far as the key knows
    # Keys without a reply in the window are left out; no hash anywhere on the page.
    assert idle.prefix not in html and stale.prefix not in html
    for key in (busy, revoked, expired, idle, stale):
        assert key.key_hash not in html
        assert key.key_hash[:16] not in html


def test_api_keys_table_says_when_no_key_was_used(staff_web, user):
    MessageFactory(conversation=ConversationFactory(owner=user))

    response = staff_web.get(URL)

    assert response.context["api_keys"] == []
    assert "No replies through an API key in this window." in response.content.decode()


# --- one ledger: what the dashboard counts as API-key use is what the plan limits count -------


def test_api_key_messages_count_against_the_apps_daily_quota(staff_web, user_client, user):
    Plan.objects.filter(slug="free").update(daily_message_limit=2)
    UserSettings.objects.filter(user=user).update(plan=Plan.objects.get(slug="free"))
    by_api = ConversationFactory(owner=user, api_key=make_api_key(user))
    for _ in range(2):
        MessageFactory(conversation=by_api)
        AssistantMessageFactory(conversation=by_api)
    in_app = ConversationFactory(owner=user)

    response = user_client.post(f"/api/v1/conversations/{in_app.pk}/messages", {"content": "hi"}, format="json")

    assert response.status_code == 429
    assert response.json()["code"] == "daily_quota_exceeded"
    totals = staff_web.get(URL).context["totals"]
    assert (totals["messages"], totals["messages_api"], totals["replies_api"]) == (2, 2, 2)


def test_an_api_key_reply_in_flight_counts_against_concurrent_replies(staff_web, user_client, user):
    Plan.objects.filter(slug="free").update(max_concurrent_generations=1)
    UserSettings.objects.filter(user=user).update(plan=Plan.objects.get(slug="free"))
    by_api = ConversationFactory(owner=user, api_key=make_api_key(user))
    AssistantMessageFactory(conversation=by_api, status=MessageStatus.STREAMING)
    in_app = ConversationFactory(owner=user)

    response = user_client.post(f"/api/v1/conversations/{in_app.pk}/messages", {"content": "hi"}, format="json")

    assert response.status_code == 429
    assert response.json()["code"] == "too_many_generations"
    statuses = staff_web.get(URL).context["statuses"]
    assert (statuses["in_flight"], statuses["in_flight_app"], statuses["in_flight_api"]) == (1, 0, 1)
