"""The admin home (``/admin/``) as the operator's console: today's cards, the window's charts,
the busiest users and latest failures; staff only, ``?days=``, a fixed number of queries."""

import html as html_lib
import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateformat import format as date_format

from console.usage import usage_home_data, usage_latency_per_day, usage_window
from conversations.models import MessageStatus, Role
from tests.accounts.factories import UserFactory
from tests.console.test_dashboard import make_api_key
from tests.conversations.factories import (
    AssistantMessageFactory,
    ConversationFactory,
    FeedbackFactory,
    LLMModelFactory,
    MessageFactory,
    turn,
)

pytestmark = pytest.mark.django_db

HOME = "/admin/"


@pytest.fixture
def staff_web(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def chart_from_html(page: str, key: str) -> dict:
    """The JSON an unfold chart component hands to Chart.js, read back from the page."""
    match = re.search(rf'id="chart-{key}">.*?data-value="([^"]*)"', page, re.S)
    assert match, f"no chart {key}"
    return json.loads(html_lib.unescape(match.group(1)))


def chart_from_context(response, key: str) -> dict:
    [chart] = [chart for chart in response.context["home"]["charts"] if chart.key == key]
    return json.loads(chart.data)


def series(chart: dict, label: str) -> list:
    [dataset] = [dataset for dataset in chart["datasets"] if dataset["label"] == label]
    return dataset["data"]


def kpi(response, key: str):
    [card] = [card for card in response.context["home"]["kpis"] if card.key == key]
    return card


def kpi_value_in_html(page: str, key: str) -> str:
    match = re.search(rf'id="kpi-{key}".*?<span class="kpi-value[^"]*">(.*?)</span>', page, re.S)
    assert match, f"no card {key}"
    return match.group(1)


def day_label(days_ago: int) -> str:
    return date_format(timezone.localdate() - timedelta(days=days_ago), "M j")


# --- charts ---------------------------------------------------------------------------------


def test_messages_per_day_chart_splits_app_and_api_key(staff_web, user):
    yesterday = timezone.now() - timedelta(days=1)
    in_app = ConversationFactory(owner=user)
    by_api = ConversationFactory(owner=user, api_key=make_api_key(user))
    for _ in range(3):
        turn(in_app, created_at=yesterday)
    turn(by_api, created_at=yesterday)
    for _ in range(2):
        turn(in_app)
        turn(by_api)
    MessageFactory(conversation=in_app, role=Role.SYSTEM)  # not a message sent

    response = staff_web.get(HOME)

    assert response.status_code == 200
    page = response.content.decode()
    chart = chart_from_html(page, "messages-per-day")
    assert chart == chart_from_context(response, "messages-per-day")
    assert len(chart["labels"]) == 14
    assert chart["labels"][-2:] == [day_label(1), day_label(0)]
    assert series(chart, "App")[-2:] == [3, 2]
    assert series(chart, "API key")[-2:] == [1, 2]
    assert sum(series(chart, "App")) == 5 and sum(series(chart, "API key")) == 3
    # Both sources in one bar a day, unfold's Chart.js colours from the theme.
    assert {dataset["stack"] for dataset in chart["datasets"]} == {"day"}
    assert all(dataset["backgroundColor"].startswith("var(--color-") for dataset in chart["datasets"])


def test_tokens_per_model_chart(staff_web, user):
    fast = LLMModelFactory(slug="fast-model", display_name="Fast")
    slow = LLMModelFactory(slug="slow-model", display_name="Slow")
    in_app = ConversationFactory(owner=user, model=fast)
    by_api = ConversationFactory(owner=user, model=slow, api_key=make_api_key(user))
    AssistantMessageFactory(conversation=in_app, model=fast, prompt_tokens=100, completion_tokens=20)
    AssistantMessageFactory(conversation=in_app, model=fast, prompt_tokens=10, completion_tokens=None)
    AssistantMessageFactory(conversation=by_api, model=fast, prompt_tokens=5, completion_tokens=5)
    AssistantMessageFactory(conversation=by_api, model=slow, prompt_tokens=40, completion_tokens=2)

    response = staff_web.get(HOME)

    chart = chart_from_html(response.content.decode(), "tokens-per-model")
    assert chart["labels"] == ["Fast", "Slow"]  # busiest first
    assert series(chart, "App") == [130, 0]
    assert series(chart, "API key") == [10, 42]


def test_active_users_per_day_chart(staff_web, user, outsider):
    yesterday = timezone.now() - timedelta(days=1)
    turn(ConversationFactory(owner=user))
    turn(ConversationFactory(owner=user))  # still one active user
    turn(ConversationFactory(owner=outsider, api_key=make_api_key(outsider)))
    turn(ConversationFactory(owner=outsider), created_at=yesterday)

    response = staff_web.get(HOME)

    chart = chart_from_html(response.content.decode(), "active-users-per-day")
    assert series(chart, "All")[-2:] == [1, 2]
    assert series(chart, "Through an API key")[-2:] == [0, 1]


def test_time_to_first_token_and_error_rate_per_day(staff_web, user):
    conversation = ConversationFactory(owner=user)
    for latency_ms in (400, 100, 300, 200):
        AssistantMessageFactory(conversation=conversation, latency_ms=latency_ms)
    AssistantMessageFactory(conversation=conversation, latency_ms=None, status=MessageStatus.ERROR)
    AssistantMessageFactory(conversation=conversation, latency_ms=None, status=MessageStatus.STREAMING)
    two_days_ago = timezone.now() - timedelta(days=2)
    AssistantMessageFactory(conversation=conversation, latency_ms=900, created_at=two_days_ago)
    AssistantMessageFactory(conversation=conversation, status=MessageStatus.INTERRUPTED, created_at=two_days_ago)
    MessageFactory(conversation=conversation, latency_ms=5)  # a user message has no time to first token

    response = staff_web.get(HOME)

    page = response.content.decode()
    latency = chart_from_html(page, "ttft-per-day")
    # Nearest rank: the 2nd of 4 for the median, the 4th for p95; no point on a day without replies.
    assert latency["labels"][-3:] == [day_label(2), day_label(1), day_label(0)]
    assert series(latency, "p50")[-3:] == [900, None, 200]
    assert series(latency, "p95")[-3:] == [900, None, 400]
    errors = chart_from_html(page, "error-rate-per-day")
    # Today: 1 error out of 5 finished replies (the streaming one has not finished); then 1 of 2.
    assert series(errors, "Failed replies")[-3:] == [50.0, 0, 20.0]


def test_latency_percentiles_are_found_by_the_database(user):
    conversation = ConversationFactory(owner=user)
    for latency_ms in range(1, 101):  # 1..100 ms, shuffled by creation order
        AssistantMessageFactory(conversation=conversation, latency_ms=(latency_ms * 37) % 100 + 1)

    [*_, today] = usage_latency_per_day(window=usage_window(days=7))

    assert today == {"day": timezone.localdate(), "measured": 100, "p50_ms": 50, "p95_ms": 95}


# --- today's cards ---------------------------------------------------------------------------


def test_cards_show_todays_figures(staff_web, user, outsider):
    model = LLMModelFactory(slug="card-model")
    in_app = ConversationFactory(owner=user, model=model)
    by_api = ConversationFactory(owner=outsider, model=model, api_key=make_api_key(outsider))
    first = turn(in_app, prompt_tokens=1000, completion_tokens=234, latency_ms=120)
    turn(by_api, prompt_tokens=10, completion_tokens=6, latency_ms=80)
    turn(by_api, status=MessageStatus.ERROR, error_code="timeout", prompt_tokens=4, completion_tokens=0)
    # Still streaming: its prompt not yet counted, 3 completion tokens so far; they count.
    turn(in_app, status="streaming", prompt_tokens=None, completion_tokens=3)
    FeedbackFactory(message=first, user=user, rating="up")
    FeedbackFactory(message=first, user=outsider, rating="down")
    last_week = timezone.now() - timedelta(days=6)
    turn(in_app, created_at=last_week)  # in the window, not today

    response = staff_web.get(HOME)

    page = response.content.decode()
    assert kpi(response, "messages").value == kpi_value_in_html(page, "messages") == "4"
    assert kpi(response, "messages").detail == "app 2 · API key 2"
    assert kpi(response, "messages").footer == "0.4 a day on average over the last 14 days"
    assert kpi(response, "active-users").value == "2"
    assert kpi(response, "tokens").value == "1,257"
    assert kpi(response, "tokens").detail == "app 1,237 · API key 20"
    failed = kpi(response, "failed")
    assert (failed.value, failed.alert) == ("1", True)
    assert failed.detail == "33.3% of 3 finished replies"
    assert failed.footer == "1 in flight now"
    assert failed.href == "/admin/conversations/message/?status__exact=error"
    assert kpi_value_in_html(page, "failed") == "1"
    assert 'id="kpi-failed" data-alert="true"' in page
    assert kpi(response, "ttft").value == "80 ms"  # nearest-rank median of 80 and 120
    assert kpi(response, "ttft").detail == "p95 120 ms · 2 replies measured"
    assert kpi(response, "feedback").value == "1 up · 1 down"


def test_a_quiet_day_shows_zeros_and_dashes(staff_web):
    response = staff_web.get(HOME)

    assert response.status_code == 200
    assert kpi(response, "messages").value == "0"
    assert kpi(response, "failed").alert is False
    assert kpi(response, "ttft").value == "—"
    page = response.content.decode()
    assert 'id="kpi-failed" data-alert="false"' in page
    assert series(chart_from_html(page, "tokens-per-model"), "App") == []
    assert "No data" in page  # unfold's empty tables


# --- tables and links ------------------------------------------------------------------------


def test_latest_failures_link_to_the_message_and_never_show_its_text(staff_web, user):
    model = LLMModelFactory(slug="flaky", display_name="Flaky model")
    conversation = ConversationFactory(owner=user, model=model, api_key=make_api_key(user))
    failed = AssistantMessageFactory(
        conversation=conversation,
        model=model,
        status=MessageStatus.ERROR,
        error_code="upstream_timeout",
        error="secret upstream detail",
        content="half a private answer",
    )
    long_ago = timezone.now() - timedelta(days=20)
    AssistantMessageFactory(conversation=conversation, status=MessageStatus.ERROR, created_at=long_ago)

    response = staff_web.get(HOME)

    table = re.search(r'id="home-latest-failures".*?</table>', response.content.decode(), re.S).group(0)
    assert f'href="/admin/conversations/message/{failed.pk}/change/"' in table
    assert "upstream_timeout" in table and "Flaky model" in table and "alice@example.com" in table
    assert "API key" in table
    assert "secret upstream detail" not in table and "half a private answer" not in table
    assert len(response.context["home"]["latest_failures"]["rows"]) == 1  # the old one is outside the window


def test_busiest_users_table(staff_web, user, outsider):
    for _ in range(3):
        turn(ConversationFactory(owner=user))
    turn(ConversationFactory(owner=outsider))

    response = staff_web.get(HOME)

    rows = response.context["home"]["top_users"]["rows"]
    assert [row[2] for row in rows] == ["3", "1"]
    assert f'href="/admin/accounts/user/{user.pk}/change/"' in str(rows[0][0])


def test_links_to_usage_failures_and_audit_trail(staff_web):
    page = staff_web.get(HOME, {"days": "7"}).content.decode()

    links = page[page.index('id="home-links"') :]
    assert 'href="/admin/usage/?days=7"' in links
    assert 'href="/admin/conversations/message/?status__exact=error"' in links
    assert 'href="/admin/conversations/message/?status__exact=interrupted"' in links
    assert 'href="/admin/auditlog/logentry/"' in links


# --- the window ------------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "days"), [({}, 14), ({"days": ""}, 14), ({"days": "7"}, 7), ({"days": "30"}, 30)])
def test_window_choice(staff_web, user, params, days):
    turn(ConversationFactory(owner=user), created_at=timezone.now() - timedelta(days=10))

    response = staff_web.get(HOME, params)

    assert response.status_code == 200
    assert response.context["home"]["days"] == days
    chart = chart_from_html(response.content.decode(), "messages-per-day")
    assert len(chart["labels"]) == days
    assert sum(series(chart, "App")) == (0 if days == 7 else 1)
    assert [item["active"] for item in response.context["home"]["windows"]] == [c == days for c in (7, 14, 30)]
    assert kpi(response, "messages").footer.endswith(f"over the last {days} days")


@pytest.mark.parametrize("value", ["3", "0", "-7", "abc", "14.0", "9" * 40, "<b>7</b>"])
def test_a_bad_window_is_named_and_no_figure_is_shown(staff_web, user, value):
    MessageFactory(conversation=ConversationFactory(owner=user))

    response = staff_web.get(HOME, {"days": value})

    assert response.status_code == 400  # console.site.ConsoleAdminSite.index
    page = response.content.decode()
    assert 'id="days-error" role="alert"' in page
    assert "“days” must be one of 7, 14, 30" in page
    assert "<b>7</b>" not in page  # the value is escaped
    assert "kpis" not in response.context["home"] and 'id="home-kpis"' not in page
    assert 'class="chart"' not in page
    assert 'href="?days=14"' in page  # the valid windows, to pick one


# --- access ----------------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_admin_login(user):
    response = Client().get(HOME)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_non_staff_is_sent_to_the_admin_login_and_sees_no_figures(user):
    MessageFactory(conversation=ConversationFactory(owner=user))
    client = Client()
    client.force_login(user)

    response = client.get(HOME, {"days": "7"})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    followed = client.get(HOME, follow=True)
    assert 'id="home-dashboard"' not in followed.content.decode()
    assert "home" not in (followed.context or {})


# --- cost ------------------------------------------------------------------------------------


def make_traffic(count: int) -> None:
    """``count`` users, each with a message and a reply in the app, a failed reply through an API
    key, and feedback; spread over ten days, on a model each so per-model rows grow too."""
    for index in range(count):
        owner = UserFactory()
        model = LLMModelFactory(slug=f"traffic-model-{index % 7}")
        sent_at = timezone.now() - timedelta(days=index % 10, minutes=index)
        conversation = ConversationFactory(owner=owner, model=model)
        MessageFactory(conversation=conversation, created_at=sent_at)
        reply = AssistantMessageFactory(conversation=conversation, model=model, created_at=sent_at, latency_ms=index)
        FeedbackFactory(message=reply, user=owner, rating="up" if index % 2 else "down")
        by_api = ConversationFactory(owner=owner, model=model, api_key=make_api_key(owner))
        MessageFactory(conversation=by_api, created_at=sent_at)
        AssistantMessageFactory(conversation=by_api, model=model, created_at=sent_at, status=MessageStatus.ERROR)


def test_home_figures_cost_seven_queries_whatever_the_data(django_assert_num_queries):
    # 1 per day (messages, replies, active users, tokens, failures by source)  2 time to first
    # token per day  3 per model  4 top users  5 latest failures  6 today's feedback  7 today's
    # reply statuses and replies in flight.
    make_traffic(1)
    with django_assert_num_queries(7):
        small = usage_home_data(days=14)
    make_traffic(49)
    with django_assert_num_queries(7):
        large = usage_home_data(days=14)
    assert sum(row["user_messages"] for row in large["per_day"]) == 100
    assert sum(row["failed"] for row in small["per_day"]) == 1
    assert len(large["per_model"]) == 7
    assert (len(small["latest_failures"]), len(large["latest_failures"])) == (1, 5)


@pytest.mark.parametrize("superuser", [False, True])
def test_home_page_costs_the_same_queries_for_1_and_50_users(staff_user, superuser):
    # Beyond the 7 figure queries: the session and the user (admin_view), the user's settings (their
    # language and time zone, accounts.preferences.UserPreferencesMiddleware), and for a staff user who
    # is not a superuser, their own and their groups' permissions (the sidebar shows what they may see).
    staff_user.is_superuser = superuser
    staff_user.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(staff_user)

    make_traffic(1)
    with CaptureQueriesContext(connection) as few:
        assert client.get(HOME).status_code == 200
    make_traffic(49)
    with CaptureQueriesContext(connection) as many:
        response = client.get(HOME)
    assert response.status_code == 200
    assert sum(series(chart_from_context(response, "messages-per-day"), "API key")) == 50
    assert len(many) == len(few) == 7 + 3 + (0 if superuser else 2)
