import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations.models import Conversation
from sharing.models import Sample

from .factories import SampleFactory, conversation_with_messages

pytestmark = pytest.mark.django_db


def test_public_list_shows_published_samples_only(api_client):
    shown = SampleFactory(title="Shown", order=1)
    SampleFactory(title="Hidden", published=False)
    response = api_client.get("/api/v1/samples")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [row["id"] for row in results] == [str(shown.pk)]
    assert "messages" not in results[0]
    assert results[0]["message_count"] == 2


def test_public_detail_of_a_published_sample(api_client):
    sample = SampleFactory()
    body = api_client.get(f"/api/v1/samples/{sample.pk}").json()
    assert body["title"] == sample.title
    assert [(m["role"], m["content"]) for m in body["messages"]] == [("user", "What is 2+2?"), ("assistant", "4.")]


def test_unpublished_sample_is_404_except_for_staff(api_client, user_client, staff_client):
    sample = SampleFactory(published=False)
    assert api_client.get(f"/api/v1/samples/{sample.pk}").status_code == 404
    assert user_client.get(f"/api/v1/samples/{sample.pk}").status_code == 404
    assert staff_client.get(f"/api/v1/samples/{sample.pk}").status_code == 200


def test_unknown_sample_is_404(api_client):
    assert api_client.get("/api/v1/samples/00000000-0000-0000-0000-000000000000").status_code == 404


def test_staff_creates_a_sample_from_any_conversation(staff_client, staff_user, user):
    conversation = conversation_with_messages(owner=user, pairs=[("Q", "A")])
    response = staff_client.post(
        "/api/v1/samples", {"conversation_id": str(conversation.pk), "title": "Good one", "description": "Why."}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    sample = Sample.objects.get(pk=body["id"])
    assert (sample.title, sample.description, sample.published) == ("Good one", "Why.", True)
    assert sample.created_by == staff_user
    assert [m["content"] for m in body["messages"]] == ["Q", "A"]
    assert "SECRET-SYSTEM-PROMPT" not in response.content.decode()


def test_non_staff_cannot_create_samples(user_client, user):
    conversation = conversation_with_messages(owner=user)
    assert user_client.post("/api/v1/samples", {"conversation_id": str(conversation.pk)}).status_code == 403
    assert not Sample.objects.exists()


def test_anonymous_cannot_create_samples(api_client, user):
    conversation = conversation_with_messages(owner=user)
    assert api_client.post("/api/v1/samples", {"conversation_id": str(conversation.pk)}).status_code == 401


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "conversation_id"), ({"conversation_id": "nope"}, "conversation_id"), ({"description": "d" * 2001}, None)],
)
def test_create_sample_bad_input_names_the_field(staff_client, user, payload, field):
    if field is None:
        payload = {"conversation_id": str(conversation_with_messages(owner=user).pk), **payload}
        field = "description"
    response = staff_client.post("/api/v1/samples", payload)
    assert response.status_code == 400
    assert field in response.json()


def test_create_sample_of_an_unknown_conversation_is_404(staff_client):
    response = staff_client.post("/api/v1/samples", {"conversation_id": "00000000-0000-0000-0000-000000000000"})
    assert response.status_code == 404


def test_clone_a_sample(user_client, user):
    sample = SampleFactory()
    response = user_client.post(f"/api/v1/samples/{sample.pk}/clone")
    assert response.status_code == 201, response.content
    body = response.json()
    clone = Conversation.objects.get(pk=body["id"])
    assert clone.owner == user
    assert (body["origin_kind"], body["origin_id"]) == ("sample", str(sample.pk))
    assert list(clone.messages.values_list("content", flat=True)) == ["What is 2+2?", "4."]


def test_clone_an_unpublished_sample_is_404(user_client):
    sample = SampleFactory(published=False)
    assert user_client.post(f"/api/v1/samples/{sample.pk}/clone").status_code == 404


def test_clone_a_sample_needs_login(api_client):
    sample = SampleFactory()
    assert api_client.post(f"/api/v1/samples/{sample.pk}/clone").status_code == 401


def _list_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/samples?page_size=100")
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()["count"]


def test_list_query_count_is_the_same_for_1_and_100_samples(api_client, django_assert_num_queries):
    SampleFactory()
    one, count = _list_queries(api_client)
    assert count == 1
    SampleFactory.create_batch(99)
    hundred, count = _list_queries(api_client)
    assert count == 100
    assert one == hundred
    # COUNT(*) for the pager, then the page (no session lookup: the list is public).
    with django_assert_num_queries(2):
        api_client.get("/api/v1/samples")


def test_a_stale_token_is_ignored_on_a_public_sample_as_on_the_list(api_client, user, auth_client):
    from accounts import services as account_services

    sample = SampleFactory(published=True)
    stale = auth_client(user)
    account_services.device_revoke(device=stale.device)  # its access token is now refused

    assert stale.get("/api/v1/samples").status_code == 200
    assert stale.get(f"/api/v1/samples/{sample.pk}").status_code == 200
    garbage = api_client
    garbage.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert garbage.get(f"/api/v1/samples/{sample.pk}").status_code == 200
