"""Security round three (issue 18), hole 5: deleting conversations reset the daily quota.

The quota was counted from the Message rows that still existed: on a 3-a-day plan a user sent 3,
deleted the conversation and sent 3 more (9 replies a day were had this way); deleted
conversations also dropped out of the staff's usage figures. Now every reply asked for (a message
sent, a regenerate, an edit, an OpenAI-compatible request) is an entry of the reply ledger, which
deleting a conversation, the retention purge or an account's deletion leaves, and which imports
and clones never write. Tried against a live server (uvicorn, real HTTP), as the hole was found.
"""

import importlib
import re
from datetime import timedelta

import httpx
import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Plan, UserSettings
from console.usage import usage_dashboard_data, usage_home_data
from conversations import services
from conversations.generation import rows
from conversations.models import Conversation, LedgerEntry, Message, MessageStatus, OriginKind, Role, Source
from conversations.quota import daily_usage
from conversations.retention import conversations_purge
from sharing.models import Share
from sharing.services import share_clone
from tests.conversations.factories import (
    AssistantMessageFactory,
    ConversationFactory,
    LedgerEntryFactory,
    LLMModelFactory,
    MessageFactory,
    turn,
)
from tests.conversations.upstream import upstream  # noqa: F401

API = "/api/v1"
fill_ledger = importlib.import_module("conversations.migrations.0009_fill_reply_ledger").fill_ledger


def three_a_day(user) -> Plan:
    # get_or_create: a test over a live server flushes the database, the seeded plans with it.
    limits = {"daily_message_limit": 3, "max_concurrent_generations": 2}
    plan, _ = Plan.objects.update_or_create(slug="three-a-day", defaults={"name": "Three a day", **limits})
    UserSettings.objects.filter(user=user).update(plan=plan)
    return plan


def fake_model(upstream, spec: str = "normal:3"):  # noqa: F811
    return LLMModelFactory(slug=spec.replace(":", "-"), upstream_model=spec, base_url=upstream.base_url)


def bearer(user) -> dict:
    session = account_services.session_start(user=user, device_id="laptop", login_type="local")
    return {"Authorization": f"Bearer {session.tokens.access}"}


def send(base: str, headers: dict, conversation_id: str, content: str = "hello") -> httpx.Response:
    """A message sent and its reply generated before the answer (``?wait=true``: 201)."""
    url = f"{base}{API}/conversations/{conversation_id}/messages?wait=true"
    return httpx.post(url, json={"content": content}, headers=headers, timeout=30)


def new_conversation(base: str, headers: dict, model_slug: str) -> str:
    response = httpx.post(f"{base}{API}/conversations", json={"model": model_slug}, headers=headers, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def completion(base: str, key: str, model_slug: str) -> httpx.Response:
    body = {"model": model_slug, "messages": [{"role": "user", "content": "hi"}]}
    return httpx.post(f"{base}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def staff_cookies(staff) -> dict:
    """The admin session of ``staff``, to read the admin's pages over real HTTP."""
    client = Client()
    client.force_login(staff)
    return {"sessionid": client.cookies["sessionid"].value}


# --- the hole, against a live server ---------------------------------------------------------


@pytest.mark.slow
def test_deleting_the_conversation_gives_no_message_of_the_day_back(asgi_server, upstream, user):  # noqa: F811
    three_a_day(user)
    model = fake_model(upstream)
    headers = bearer(user)
    first = new_conversation(asgi_server, headers, model.slug)
    for n in range(3):
        response = send(asgi_server, headers, first, f"question {n}")
        assert response.status_code == 201, response.text
        assert response.json()["assistant_message"]["status"] == "complete"

    deleted = httpx.delete(f"{asgi_server}{API}/conversations/{first}", headers=headers, timeout=10)
    assert deleted.status_code == 204
    assert not Message.objects.filter(conversation__owner=user).exists()

    second = new_conversation(asgi_server, headers, model.slug)
    refused = send(asgi_server, headers, second, "a fourth")
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "daily_quota_exceeded"
    assert int(refused.headers["Retry-After"]) > 0
    created = httpx.post(
        f"{asgi_server}{API}/conversations", json={"model": model.slug, "message": "a fifth"}, headers=headers
    )
    assert (created.status_code, created.json()["code"]) == (429, "daily_quota_exceeded")
    usage = httpx.get(f"{asgi_server}{API}/user/settings/subscription", headers=headers).json()["usage_today"]
    assert (usage["messages_sent"], usage["daily_message_limit"]) == (3, 3)
    assert LedgerEntry.objects.filter(user=user).count() == 3  # the refused ones asked for nothing


@pytest.mark.slow
def test_the_openai_compatible_api_shares_the_ledger_deletion_leaves(asgi_server, upstream, user):  # noqa: F811
    three_a_day(user)
    model = fake_model(upstream)
    _key, secret = account_services.api_key_create(user=user, name="script")
    headers = bearer(user)
    for _ in range(2):
        response = completion(asgi_server, secret, model.slug)
        assert response.status_code == 200, response.text
    in_app = new_conversation(asgi_server, headers, model.slug)
    assert send(asgi_server, headers, in_app).status_code == 201
    # The app's conversation deleted by its owner, the API's by the retention purge.
    assert httpx.delete(f"{asgi_server}{API}/conversations/{in_app}", headers=headers).status_code == 204
    conversations_purge(cutoff=timezone.now() + timedelta(seconds=1))
    assert not Conversation.objects.filter(owner=user).exists()

    refused = completion(asgi_server, secret, model.slug)
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "daily_quota_exceeded"
    assert int(refused.headers["Retry-After"]) > 0
    assert not Conversation.objects.filter(owner=user).exists()  # refused before any row was kept
    entries = LedgerEntry.objects.filter(user=user)
    assert sorted(entries.values_list("source", flat=True)) == ["api", "api", "app"]
    assert all(entry.status == MessageStatus.COMPLETE and entry.completion_tokens == 3 for entry in entries)


@pytest.mark.slow
def test_the_staff_figures_keep_a_deleted_conversations_replies(asgi_server, upstream, user, staff_user):  # noqa: F811
    model = fake_model(upstream, "normal:5")
    headers = bearer(user)
    _key, secret = account_services.api_key_create(user=user, name="script")
    conversation = new_conversation(asgi_server, headers, model.slug)
    for _ in range(2):
        assert send(asgi_server, headers, conversation).status_code == 201
    assert completion(asgi_server, secret, model.slug).status_code == 200
    assert httpx.delete(f"{asgi_server}{API}/conversations/{conversation}", headers=headers).status_code == 204

    page = httpx.get(f"{asgi_server}/admin/usage/?days=7", cookies=staff_cookies(staff_user), timeout=10)

    assert page.status_code == 200
    html = page.text
    figure = {
        name: int(re.search(rf'id="total-{name}">(\d+)<', html).group(1))
        for name in ("replies", "replies-app", "replies-api", "messages", "active-users")
    }
    assert figure == {"replies": 3, "replies-app": 2, "replies-api": 1, "messages": 3, "active-users": 1}
    today = re.search(rf'<tr data-day="{timezone.localdate().isoformat()}">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'class="num replies(?: [^"]*)?">\s*3', today)
    data = usage_dashboard_data(days=7)
    [per_model] = data["per_model"]
    assert (per_model["slug"], per_model["replies"], per_model["completion_tokens"]) == (model.slug, 3, 15)
    assert data["statuses"]["complete"] == 3
    assert [(row["email"], row["messages"]) for row in data["top_users"]] == [(user.email, 3)]
    assert [(row["name"], row["replies"]) for row in data["api_keys"]] == [("script", 1)]
    home = usage_home_data(days=7)
    assert home["per_day"][-1]["tokens"] > 0 and home["latency_per_day"][-1]["measured"] == 3


# --- every way rows are deleted --------------------------------------------------------------


@pytest.mark.django_db
def test_the_retention_purge_leaves_the_ledger(user):
    model = LLMModelFactory(slug="kept")
    old = ConversationFactory(owner=user, model=model)
    turn(old, created_at=timezone.now() - timedelta(days=3), prompt_tokens=7, completion_tokens=2)
    Conversation.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=3))

    purged = conversations_purge(cutoff=timezone.now() - timedelta(days=1))

    assert (purged.conversations, purged.messages) == (1, 2)
    [entry] = LedgerEntry.objects.all()
    assert (entry.user, entry.model, entry.prompt_tokens, entry.completion_tokens) == (user, model, 7, 2)
    assert usage_dashboard_data(days=7)["totals"]["replies"] == 1


@pytest.mark.django_db
def test_deleting_an_account_keeps_the_service_figures_without_the_user(user, outsider):
    key, _secret = account_services.api_key_create(user=user, name="script")
    turn(ConversationFactory(owner=user), prompt_tokens=10, completion_tokens=5)
    turn(ConversationFactory(owner=user, api_key=key), prompt_tokens=1, completion_tokens=1)
    in_flight = AssistantMessageFactory(conversation=ConversationFactory(owner=user), status=MessageStatus.STREAMING)
    turn(ConversationFactory(owner=outsider))

    account_services.user_delete(user=user)

    assert LedgerEntry.objects.count() == 4
    assert not LedgerEntry.objects.filter(user_id=user.pk).exists()
    assert LedgerEntry.objects.filter(user=None, source=Source.API, api_key=None).count() == 1  # the source stays
    assert LedgerEntry.objects.get(message_id=in_flight.pk).status == MessageStatus.STOPPED  # stopped with it
    totals = usage_dashboard_data(days=7)["totals"]
    assert (totals["replies"], totals["replies_app"], totals["replies_api"]) == (4, 3, 1)
    assert [row["email"] for row in usage_dashboard_data(days=7)["top_users"]] == [outsider.email]


@pytest.mark.django_db
def test_deleting_a_conversation_with_a_reply_in_flight_ends_its_entry(user):
    three_a_day(user)
    conversation = ConversationFactory(owner=user, model=LLMModelFactory(slug="slow"))
    _question, reply = services.message_send(conversation=conversation, user=user, content="hi")

    services.conversation_delete(conversation=conversation)

    entry = LedgerEntry.objects.get(message_id=reply.pk)
    assert entry.status == MessageStatus.STOPPED
    # Its worker's final save finds no row: the entry is not ended twice.
    assert rows.reply_finalise(message_id=reply.pk, status=MessageStatus.COMPLETE, completion_tokens=9) is False
    entry.refresh_from_db()
    assert (entry.status, entry.completion_tokens) == (MessageStatus.STOPPED, None)
    assert daily_usage(settings_row=UserSettings.objects.get(user=user)).messages_sent == 1


@pytest.mark.django_db
def test_a_reply_deleted_in_the_admin_is_not_in_flight_for_ever(user):
    # The admin deletes rows without the service: the entry stays pending, the reply is gone.
    reply = AssistantMessageFactory(conversation=ConversationFactory(owner=user), status=MessageStatus.STREAMING)
    AssistantMessageFactory(conversation=ConversationFactory(owner=user), status=MessageStatus.PENDING)
    Conversation.objects.filter(pk=reply.conversation_id).delete()

    statuses = usage_dashboard_data(days=7)["statuses"]

    assert statuses["in_flight"] == 1
    assert LedgerEntry.objects.filter(status__in=(MessageStatus.PENDING, MessageStatus.STREAMING)).count() == 2


@pytest.mark.django_db
def test_concurrent_replies_are_counted_from_the_live_replies_not_the_ledger(user):
    three_a_day(user)
    Plan.objects.filter(slug="three-a-day").update(daily_message_limit=0, max_concurrent_generations=1)
    # A pending entry whose reply is gone (an admin deletion) does not hold the user's one slot.
    LedgerEntryFactory(user=user, status=MessageStatus.PENDING)
    conversation = ConversationFactory(owner=user, model=LLMModelFactory(slug="one-slot"))
    services.message_send(conversation=conversation, user=user, content="first")

    with pytest.raises(services.TooManyGenerations):
        services.message_send(conversation=ConversationFactory(owner=user), user=user, content="second")


# --- what is not a reply asked for ----------------------------------------------------------


@pytest.mark.django_db
def test_importing_todays_history_costs_no_quota_and_writes_no_entry(user, tmp_path):
    import json
    import time

    from portability.services import import_file
    from tests.portability import chatgpt_export as gpt

    three_a_day(user)
    now = time.time() - gpt.T0  # the export's times are offsets from its T0: these are today's
    nodes = [("root", None, None)]
    for n in range(4):
        parent = nodes[-1][0]
        nodes.append((f"u{n}", gpt._message(f"u{n}", "user", [f"question {n}"], now + 2 * n), parent))
        nodes.append((f"a{n}", gpt._message(f"a{n}", "assistant", [f"answer {n}"], now + 2 * n + 1), f"u{n}"))
    export = [
        {
            "id": "today-1",
            "title": "Today",
            "create_time": gpt.T0 + now,
            "update_time": gpt.T0 + now + 8,
            "mapping": gpt._tree(nodes),
            "current_node": "a3",
        }
    ]
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(export))

    done = import_file(user=user, path=path)

    assert done.messages_imported == 8
    today = timezone.now() - timedelta(minutes=1)
    assert Message.objects.filter(conversation__owner=user, created_at__gte=today).count() == 8
    assert not LedgerEntry.objects.exists()
    assert daily_usage(settings_row=UserSettings.objects.get(user=user)).messages_sent == 0
    conversation = Conversation.objects.get(owner=user)
    conversation.model = LLMModelFactory(slug="after-import")
    conversation.save()
    services.message_send(conversation=conversation, user=user, content="my own")
    assert daily_usage(settings_row=UserSettings.objects.get(user=user)).messages_sent == 1


@pytest.mark.django_db
def test_a_clone_of_a_share_is_not_a_reply_asked_for(user, outsider):
    three_a_day(user)
    messages = [{"role": role, "content": f"{role} {n}"} for n in range(5) for role in ("user", "assistant")]
    share = Share.objects.create(owner=outsider, title="long", messages=messages, model_slug="")

    clone = share_clone(share=share, user=user)

    assert clone.origin_kind == OriginKind.SHARE and clone.messages.filter(role=Role.USER).count() == 5
    assert not LedgerEntry.objects.exists()
    assert daily_usage(settings_row=UserSettings.objects.get(user=user)).messages_sent == 0
    assert usage_dashboard_data(days=7)["totals"]["replies"] == 0


# --- the data migration ----------------------------------------------------------------------


def old_turn(conversation, *, created_at=None, **reply_fields) -> Message:
    """A question and its reply as they were before the ledger: no entry."""
    created_at = created_at or timezone.now()
    MessageFactory(conversation=conversation, created_at=created_at - timedelta(microseconds=1))
    return AssistantMessageFactory(conversation=conversation, created_at=created_at, ledger=False, **reply_fields)


@pytest.mark.django_db
def test_the_migration_fills_the_ledger_from_the_replies_asked_for(user, outsider):
    key, _secret = account_services.api_key_create(user=outsider, name="script")
    model = LLMModelFactory(slug="before-the-ledger")
    now = timezone.now()
    yesterday = now - timedelta(days=1)
    in_app = ConversationFactory(owner=user, model=model)
    by_api = ConversationFactory(owner=outsider, model=model, api_key=key, origin_kind=OriginKind.API)
    # Replies the engine took up (their stream bookkeeping was written) or has yet to take up.
    taken = {"heartbeat_at": now, "stream_seq": 12}
    complete = old_turn(in_app, created_at=now, prompt_tokens=11, completion_tokens=4, latency_ms=90, **taken)
    failed = old_turn(in_app, created_at=yesterday, status=MessageStatus.ERROR, **taken)
    reaped = old_turn(in_app, status=MessageStatus.INTERRUPTED, stream_seq=3)  # reaped before it started
    pending = old_turn(by_api, status=MessageStatus.PENDING, prompt_tokens=None, completion_tokens=None)
    # Copies the engine never touched, made today: an import's, a clone's.
    old_turn(ConversationFactory(owner=user))
    old_turn(ConversationFactory(owner=user, origin_kind=OriginKind.SHARE))

    assert fill_ledger(django_apps) == 4
    assert fill_ledger(django_apps) == 4  # again: nothing is written twice
    assert LedgerEntry.objects.count() == 4

    entry = LedgerEntry.objects.get(message_id=complete.pk)
    assert (entry.user, entry.source, entry.api_key, entry.model) == (user, Source.APP, None, model)
    assert (entry.created_at, entry.status) == (now, MessageStatus.COMPLETE)
    assert (entry.prompt_tokens, entry.completion_tokens, entry.latency_ms) == (11, 4, 90)
    assert LedgerEntry.objects.filter(message_id=failed.pk, status=MessageStatus.ERROR, created_at=yesterday).exists()
    assert LedgerEntry.objects.get(message_id=reaped.pk).status == MessageStatus.INTERRUPTED
    api_entry = LedgerEntry.objects.get(message_id=pending.pk)
    assert (api_entry.user, api_entry.source, api_entry.api_key) == (outsider, Source.API, key)
    assert (api_entry.status, api_entry.prompt_tokens) == (MessageStatus.PENDING, None)
    # Today's quota: the two messages alice sent today, as before the deploy, but no longer the
    # copies (the old count took every user message of the day, imported or cloned ones too).
    assert daily_usage(settings_row=UserSettings.objects.get(user=user)).messages_sent == 2
    # ... and from now on, the figures keep a conversation deleted after the deploy.
    in_app.delete()
    totals = usage_dashboard_data(days=7)["totals"]
    assert (totals["replies"], totals["replies_app"], totals["replies_api"]) == (4, 3, 1)


@pytest.mark.django_db
def test_a_ledger_entry_holds_no_text():
    names = {field.name for field in LedgerEntry._meta.get_fields()}
    assert names == {
        "id",
        "user",
        "message_id",
        "source",
        "api_key",
        "model",
        "created_at",
        "status",
        "prompt_tokens",
        "completion_tokens",
        "latency_ms",
    }
