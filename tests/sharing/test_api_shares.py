import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations.models import Conversation, Message
from sharing import services
from sharing.models import Share

from .factories import MessageFactory, conversation_with_messages

pytestmark = pytest.mark.django_db

PRIVATE_KEYS = {"owner", "owner_id", "owner_email", "email", "user", "user_id", "system_prompt", "status",
                "error", "error_code", "prompt_tokens", "completion_tokens", "latency_ms", "stream_seq", "view_count",
                "source_conversation", "source_conversation_id"}  # fmt: skip


def _all_keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _all_keys(v)}
    return set()


@pytest.fixture
def conversation(user):
    return conversation_with_messages(owner=user, pairs=[("What is **Django**?", "A web framework.")])


@pytest.fixture
def share(user, conversation):
    return services.share_create(user=user, conversation=conversation)


# --- POST /shares -----------------------------------------------------------------------------


def test_create_share(user_client, conversation):
    expires = timezone.now() + timedelta(days=7)
    payload = {"conversation_id": str(conversation.pk), "title": "My chat", "expires_at": expires.isoformat()}
    response = user_client.post("/api/v1/shares", payload)
    assert response.status_code == 201, response.content
    body = response.json()
    share = Share.objects.get(pk=body["id"])
    assert body["url"] == f"http://testserver/share/{share.pk}/"
    assert body["title"] == "My chat"
    assert body["message_count"] == 2
    assert body["expires_at"] is not None
    assert share.owner_id == user_client.user.pk


def test_create_share_defaults_title_to_the_conversation(user_client, conversation):
    response = user_client.post("/api/v1/shares", {"conversation_id": str(conversation.pk)})
    assert response.status_code == 201
    assert response.json()["title"] == conversation.title


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "conversation_id"),
        ({"conversation_id": "not-a-uuid"}, "conversation_id"),
        ({"title": "x" * 201}, "title"),
        ({"expires_at": "yesterday"}, "expires_at"),
    ],
)
def test_create_share_bad_input_names_the_field(user_client, conversation, payload, field):
    payload = {"conversation_id": str(conversation.pk), **payload} if field != "conversation_id" else payload
    response = user_client.post("/api/v1/shares", payload)
    assert response.status_code == 400
    assert field in response.json()


def test_create_share_with_past_expiry_is_400(user_client, conversation):
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    response = user_client.post("/api/v1/shares", {"conversation_id": str(conversation.pk), "expires_at": past})
    assert response.status_code == 400
    assert "expires_at" in response.json()


def test_create_share_of_an_empty_conversation_is_409(user_client, user):
    empty = conversation_with_messages(owner=user, pairs=[])
    response = user_client.post("/api/v1/shares", {"conversation_id": str(empty.pk)})
    assert response.status_code == 409  # well-formed, but nothing is finished to share yet
    assert response.json()["code"] == "nothing_to_share"


def test_create_share_of_another_users_conversation_is_404(outsider_client, conversation):
    response = outsider_client.post("/api/v1/shares", {"conversation_id": str(conversation.pk)})
    assert response.status_code == 404
    assert not Share.objects.exists()


def test_create_share_needs_login(api_client, conversation):
    assert api_client.post("/api/v1/shares", {"conversation_id": str(conversation.pk)}).status_code == 401


# --- GET /shares/{id} (public) ----------------------------------------------------------------


def test_public_share_payload_holds_no_private_field(api_client, share, user):
    response = api_client.get(f"/api/v1/shares/{share.pk}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "title", "created_at", "messages"}
    assert not (_all_keys(body) & PRIVATE_KEYS)
    assert [(m["role"], m["content"]) for m in body["messages"]] == [
        ("user", "What is **Django**?"),
        ("assistant", "A web framework."),
    ]
    shown = {"role", "content", "created_at", "attachments", "sources", "tool_calls", "notices"}
    assert all(set(m) == shown for m in body["messages"])
    assert all(m["created_at"].endswith("Z") for m in body["messages"])  # the API's own time format
    raw = response.content.decode()
    for secret in (user.email, "SECRET-SYSTEM-PROMPT", "SYSTEM-ROW-CONTENT", str(share.source_conversation_id)):
        assert secret not in raw


def test_public_share_ignores_a_stale_token(api_client, share):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-valid-token")
    assert api_client.get(f"/api/v1/shares/{share.pk}").status_code == 200


def test_messages_added_after_sharing_do_not_appear(api_client, share, conversation):
    MessageFactory(conversation=conversation, role="user", content="LATER MESSAGE")
    body = api_client.get(f"/api/v1/shares/{share.pk}").json()
    assert "LATER MESSAGE" not in json.dumps(body)


def test_each_view_is_counted(api_client, share):
    for _ in range(3):
        api_client.get(f"/api/v1/shares/{share.pk}")
    share.refresh_from_db()
    assert share.view_count == 3


def test_unknown_share_is_404(api_client):
    assert api_client.get("/api/v1/shares/does-not-exist").status_code == 404


def test_revoked_share_is_404(api_client, share):
    services.share_revoke(share=share)
    assert api_client.get(f"/api/v1/shares/{share.pk}").status_code == 404


def test_expired_share_is_404(api_client, share):
    Share.objects.filter(pk=share.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_client.get(f"/api/v1/shares/{share.pk}").status_code == 404
    share.refresh_from_db()
    assert share.view_count == 0


def test_deleting_the_source_conversation_keeps_the_share_working(user_client, api_client, share, conversation):
    assert Conversation.objects.filter(pk=conversation.pk).delete()[0] >= 1
    response = api_client.get(f"/api/v1/shares/{share.pk}")
    assert response.status_code == 200
    assert len(response.json()["messages"]) == 2


# --- DELETE /shares/{id} ----------------------------------------------------------------------


def test_owner_revokes_a_share(user_client, api_client, share):
    assert user_client.delete(f"/api/v1/shares/{share.pk}").status_code == 204
    share.refresh_from_db()
    assert share.revoked_at is not None
    assert api_client.get(f"/api/v1/shares/{share.pk}").status_code == 404
    assert user_client.delete(f"/api/v1/shares/{share.pk}").status_code == 404


def test_staff_revokes_any_share(staff_client, share):
    assert staff_client.delete(f"/api/v1/shares/{share.pk}").status_code == 204


def test_outsider_cannot_revoke(outsider_client, share):
    assert outsider_client.delete(f"/api/v1/shares/{share.pk}").status_code == 404
    share.refresh_from_db()
    assert share.revoked_at is None


def test_revoke_needs_login(api_client, share):
    assert api_client.delete(f"/api/v1/shares/{share.pk}").status_code == 401


# --- POST /shares/{id}/clone ------------------------------------------------------------------


def test_clone_makes_a_conversation_of_the_caller(outsider_client, outsider, share):
    response = outsider_client.post(f"/api/v1/shares/{share.pk}/clone")
    assert response.status_code == 201, response.content
    body = response.json()
    clone = Conversation.objects.get(pk=body["id"])
    assert clone.owner == outsider
    assert body["origin_kind"] == "share" and body["origin_id"] == share.pk
    assert body["message_count"] == 2
    assert body["system_prompt"] == ""
    assert list(Message.objects.filter(conversation=clone).values_list("role", "content", "status")) == [
        ("user", "What is **Django**?", "complete"),
        ("assistant", "A web framework.", "complete"),
    ]


def test_clone_needs_login(api_client, share):
    assert api_client.post(f"/api/v1/shares/{share.pk}/clone").status_code == 401
    assert not Conversation.objects.filter(origin_kind="share").exists()


def test_clone_of_a_revoked_share_is_404(outsider_client, share):
    services.share_revoke(share=share)
    assert outsider_client.post(f"/api/v1/shares/{share.pk}/clone").status_code == 404


# --- GET /shares ------------------------------------------------------------------------------


def test_list_shows_only_the_callers_live_shares(user_client, outsider_client, share, user, conversation):
    revoked = services.share_revoke(share=services.share_create(user=user, conversation=conversation))
    body = user_client.get("/api/v1/shares").json()
    assert [row["id"] for row in body["results"]] == [share.pk]
    assert revoked.pk not in json.dumps(body)
    assert body["results"][0]["view_count"] == 0
    assert outsider_client.get("/api/v1/shares").json()["results"] == []
    # ?all=true is for staff only; others still see just their own.
    assert outsider_client.get("/api/v1/shares?all=true").json()["results"] == []


def test_staff_may_list_every_share(staff_client, share):
    assert staff_client.get("/api/v1/shares").json()["results"] == []
    assert [row["id"] for row in staff_client.get("/api/v1/shares?all=true").json()["results"]] == [share.pk]


def test_list_needs_login(api_client):
    assert api_client.get("/api/v1/shares").status_code == 401


def test_list_rejects_a_malformed_flag(user_client):
    response = user_client.get("/api/v1/shares?all=maybe")
    assert response.status_code == 400
    assert "all" in response.json()


def _count_list_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/shares?page_size=100")
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()["count"]


def test_list_query_count_is_the_same_for_1_and_100_shares(user_client, user, conversation, django_assert_num_queries):
    services.share_create(user=user, conversation=conversation)
    one, count = _count_list_queries(user_client)
    assert count == 1
    Share.objects.bulk_create(
        [Share(owner=user, source_conversation=conversation, title=f"s{i}", messages=[]) for i in range(99)]
    )
    hundred, count = _count_list_queries(user_client)
    assert count == 100
    assert one == hundred
    # The session lookup, COUNT(*) for the pager, the page itself.
    with django_assert_num_queries(3):
        user_client.get("/api/v1/shares")


@pytest.mark.parametrize("bad_id", ["abc%00def", "%00", "a%20b", "x" * 65])
def test_a_malformed_share_id_is_a_404_everywhere(user_client, api_client, bad_id):
    # A NUL byte reached PostgreSQL and answered 500 (JSON, page, delete and clone alike).
    assert api_client.get(f"/api/v1/shares/{bad_id}").status_code == 404
    assert user_client.delete(f"/api/v1/shares/{bad_id}").status_code == 404
    assert user_client.post(f"/api/v1/shares/{bad_id}/clone").status_code == 404
    assert api_client.get(f"/share/{bad_id}/").status_code == 404
