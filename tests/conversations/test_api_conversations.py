"""GET/POST /conversations and GET/PUT/PATCH/DELETE /conversations/{id}."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Plan
from conversations.models import Conversation, LLMModel, Message, MessageStatus
from tests.conversations.factories import (
    AssistantMessageFactory,
    ConversationFactory,
    LLMModelFactory,
    MessageFactory,
    turn,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/conversations"


def detail(conversation) -> str:
    return f"{LIST}/{conversation.pk}"


# --- list -------------------------------------------------------------------------------------


def test_list_shows_only_my_conversations_with_counts_and_preview(user_client, user, outsider):
    mine = ConversationFactory(owner=user, title="Mine")
    MessageFactory(conversation=mine, content="hello")
    AssistantMessageFactory(conversation=mine, content="Hi! How can I help?")
    MessageFactory(conversation=mine, content="Tell me more " * 40)
    AssistantMessageFactory(conversation=mine, content="", status=MessageStatus.PENDING)
    ConversationFactory(owner=outsider, title="Theirs")

    response = user_client.get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["id"], row["title"], row["model"]) == (str(mine.pk), "Mine", "smollm2-135m")
    assert row["message_count"] == 4
    # The newest message with text, cut short; a reply still pending has none yet.
    assert row["last_message_preview"] == ("Tell me more " * 40)[:160]


def test_list_orders_pinned_first_then_most_recent(user_client, user):
    old = ConversationFactory(owner=user, title="old")
    new = ConversationFactory(owner=user, title="new")
    pinned_old = ConversationFactory(owner=user, title="pinned", pinned=True)
    stamps = {old: 3, pinned_old: 2, new: 1}
    for conversation, days_ago in stamps.items():
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=timezone.now() - timedelta(days=days_ago))
    titles = [row["title"] for row in user_client.get(LIST).json()["results"]]
    assert titles == ["pinned", "new", "old"]


def test_list_hides_archived_by_default_and_filters(user_client, user):
    ConversationFactory(owner=user, title="active")
    ConversationFactory(owner=user, title="archived", archived=True)
    ConversationFactory(owner=user, title="pinned", pinned=True)

    def titles(**params):
        response = user_client.get(LIST, params)
        assert response.status_code == 200
        return sorted(row["title"] for row in response.json()["results"])

    assert titles() == ["active", "pinned"]
    assert titles(archived="true") == ["archived"]
    assert titles(archived="false") == ["active", "pinned"]
    assert titles(pinned="true") == ["pinned"]
    assert titles(pinned="false") == ["active"]


def test_list_rejects_a_malformed_filter(user_client):
    response = user_client.get(LIST, {"archived": "maybe"})
    assert response.status_code == 400
    assert "archived" in response.json()


def test_search_matches_titles_and_message_content_case_insensitively(user_client, user, outsider):
    by_title = ConversationFactory(owner=user, title="Trip to KYOTO")
    by_content = ConversationFactory(owner=user, title="Travel")
    MessageFactory(conversation=by_content, content="What should I see in kyoto?")
    MessageFactory(conversation=by_content, content="Kyoto in autumn")  # two hits, listed once
    ConversationFactory(owner=user, title="Unrelated")
    theirs = ConversationFactory(owner=outsider, title="kyoto")
    MessageFactory(conversation=theirs, content="kyoto")

    body = user_client.get(LIST, {"q": "Kyoto"}).json()
    assert body["count"] == 2
    assert {row["id"] for row in body["results"]} == {str(by_title.pk), str(by_content.pk)}
    assert user_client.get(LIST, {"q": "nothing-like-this"}).json()["count"] == 0


def test_search_query_too_long_is_400(user_client):
    response = user_client.get(LIST, {"q": "x" * 201})
    assert response.status_code == 400
    assert "q" in response.json()


def _list_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(LIST, params).status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_is_the_same_for_1_and_100_rows(user_client, user, django_assert_num_queries):
    first = ConversationFactory(owner=user)
    MessageFactory(conversation=first)
    # device session (auth), page count, the page with counts and previews.
    with django_assert_num_queries(3):
        user_client.get(LIST)
    one = _list_queries(user_client, q="message")
    for _ in range(99):
        conversation = ConversationFactory(owner=user)
        MessageFactory(conversation=conversation)
        AssistantMessageFactory(conversation=conversation)
    with django_assert_num_queries(3):
        response = user_client.get(LIST, {"page_size": 100})
    assert len(response.json()["results"]) == 100
    assert _list_queries(user_client, q="message") == one


def test_list_requires_authentication(api_client):
    assert api_client.get(LIST).status_code == 401


# --- create -----------------------------------------------------------------------------------


def test_create_empty_conversation_uses_the_default_model(user_client, user):
    response = user_client.post(LIST, {}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "" and body["model"] == "smollm2-135m" and body["message_count"] == 0
    assert "user_message" not in body or body["user_message"] is None
    assert Conversation.objects.get(pk=body["id"]).owner == user


def test_create_with_title_model_and_system_prompt(user_client):
    LLMModelFactory(slug="other")
    response = user_client.post(
        LIST, {"title": "  My   chat ", "model": "other", "system_prompt": "Be brief."}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["model"], body["system_prompt"]) == ("My chat", "other", "Be brief.")


def test_create_with_a_first_message_starts_a_reply(user_client, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = user_client.post(LIST, {"message": "Hello there"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["user_message"]["content"] == "Hello there"
    assert body["user_message"]["role"] == "user"
    assert body["assistant_message"]["status"] == "pending"
    assert body["assistant_message"]["role"] == "assistant"
    assert body["stream_url"] == f"/api/v1/conversations/{body['id']}/stream"
    assert body["message_count"] == 2
    assert len(callbacks) == 1  # the generation is handed to the engine only after commit


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "x" * 201}, "title"),
        ({"model": "no-such-model"}, "model"),
        ({"model": "bad slug!"}, "model"),
        ({"system_prompt": "x" * 8001}, "system_prompt"),
        ({"message": "   "}, "message"),
        ({"message": 123.5, "title": ["a"]}, "title"),
    ],
)
def test_create_rejects_bad_input_naming_the_field(user_client, payload, field):
    response = user_client.post(LIST, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Conversation.objects.exists()


def test_create_rejects_a_disabled_model(user_client):
    response = user_client.post(LIST, {"model": "gpt-4o-mini"}, format="json")
    assert response.status_code == 400
    assert "model" in response.json()


def test_create_rejects_a_model_outside_the_plan(user_client):
    restricted = LLMModelFactory(slug="premium")
    restricted.plans.set([Plan.objects.get(slug="pro")])
    response = user_client.post(LIST, {"model": "premium"}, format="json")
    assert response.status_code == 403  # a model that exists, not included in this user's plan
    assert response.json()["code"] == "model_not_in_plan"
    assert not Conversation.objects.exists()


def test_create_with_a_message_over_quota_leaves_no_empty_conversation(user_client, user):
    Plan.objects.filter(slug="free").update(daily_message_limit=1)
    turn(ConversationFactory(owner=user))
    response = user_client.post(LIST, {"message": "one more"}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "daily_quota_exceeded"
    assert Conversation.objects.filter(owner=user).count() == 1


def test_create_requires_authentication(api_client):
    assert api_client.post(LIST, {}, format="json").status_code == 401


# --- detail, update, delete -------------------------------------------------------------------


def test_get_my_conversation(user_client, user):
    conversation = ConversationFactory(owner=user, title="Hello", system_prompt="Be kind.")
    response = user_client.get(detail(conversation))
    assert response.status_code == 200
    assert response.json()["system_prompt"] == "Be kind."


def test_patch_pins_archives_renames_and_changes_the_model(user_client, user):
    LLMModelFactory(slug="other")
    conversation = ConversationFactory(owner=user, title="before")
    response = user_client.patch(
        detail(conversation), {"pinned": True, "archived": True, "title": "after", "model": "other"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["pinned"], body["archived"], body["title"], body["model"]) == (True, True, "after", "other")
    conversation.refresh_from_db()
    assert conversation.pinned and conversation.archived and conversation.model.slug == "other"


def test_patch_model_null_resets_to_the_default(user_client, user):
    conversation = ConversationFactory(owner=user, model=LLMModelFactory(slug="other"))
    response = user_client.patch(detail(conversation), {"model": None}, format="json")
    assert response.status_code == 200
    assert response.json()["model"] == "smollm2-135m"


def test_patch_without_changes_does_not_touch_updated_at(user_client, user):
    conversation = ConversationFactory(owner=user, title="same")
    before = Conversation.objects.get(pk=conversation.pk).updated_at
    assert user_client.patch(detail(conversation), {"title": "same"}, format="json").status_code == 200
    assert Conversation.objects.get(pk=conversation.pk).updated_at == before


def test_put_needs_every_field(user_client, user):
    conversation = ConversationFactory(owner=user)
    response = user_client.put(detail(conversation), {"title": "only this"}, format="json")
    assert response.status_code == 400
    assert {"model", "system_prompt", "pinned", "archived"} <= set(response.json())

    full = {"title": "t", "model": None, "system_prompt": "", "pinned": True, "archived": False}
    response = user_client.put(detail(conversation), full, format="json")
    assert response.status_code == 200
    assert response.json()["pinned"] is True


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"pinned": "sometimes"}, "pinned"), ({"model": "gpt-4o-mini"}, "model"), ({"title": "x" * 201}, "title")],
)
def test_patch_rejects_bad_input(user_client, user, payload, field):
    conversation = ConversationFactory(owner=user)
    response = user_client.patch(detail(conversation), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_delete_removes_the_conversation_and_its_messages(user_client, user):
    conversation = ConversationFactory(owner=user)
    MessageFactory(conversation=conversation)
    assert user_client.delete(detail(conversation)).status_code == 204
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(conversation_id=conversation.pk).exists()


def test_unknown_conversation_is_404(user_client):
    assert user_client.get(f"{LIST}/00000000-0000-0000-0000-000000000000").status_code == 404


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_detail_routes_require_authentication(api_client, user, method):
    conversation = ConversationFactory(owner=user)
    assert getattr(api_client, method)(detail(conversation), {}, format="json").status_code == 401


OUTSIDER_ROUTES = [
    ("get", "", None),
    ("put", "", {"title": "x", "model": None, "system_prompt": "", "pinned": True, "archived": False}),
    ("patch", "", {"title": "hijacked"}),
    ("delete", "", None),
    ("get", "/messages", None),
    ("post", "/messages", {"content": "hi"}),
    ("post", "/messages?wait=true", {"content": "hi"}),
    ("post", "/stop", None),
    ("post", "/feedback", {"message_id": "REPLY", "rating": "down"}),
]


@pytest.mark.parametrize(("method", "suffix", "payload"), OUTSIDER_ROUTES)
def test_outsider_gets_404_on_every_route_and_changes_nothing(outsider_client, user, method, suffix, payload):
    conversation = ConversationFactory(owner=user, title="private")
    reply = AssistantMessageFactory(conversation=conversation, status=MessageStatus.STREAMING)
    if payload and payload.get("message_id") == "REPLY":
        payload = {**payload, "message_id": str(reply.pk)}
    response = getattr(outsider_client, method)(detail(conversation) + suffix, payload, format="json")
    assert response.status_code == 404
    assert "private" not in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.title == "private"
    assert Message.objects.filter(conversation=conversation).count() == 1
    assert not reply.feedback.exists()


def test_default_model_is_used_when_the_conversation_model_was_disabled(user_client, user):
    other = LLMModelFactory(slug="other")
    conversation = ConversationFactory(owner=user, model=other)
    LLMModel.objects.filter(pk=other.pk).update(enabled=False)
    response = user_client.post(detail(conversation) + "/messages", {"content": "hi"}, format="json")
    assert response.status_code == 202
    assert response.json()["assistant_message"]["model"] == "smollm2-135m"
