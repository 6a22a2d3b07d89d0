"""The console's bulk actions do what they say: users deactivated (signed out everywhere) and
reactivated, devices revoked, the model catalog's enable, disable, default and connection test,
conversations published as samples. (Their audit entries: test_audit.py, test_user_page.py.)"""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts import services
from accounts.models import Device, User
from console.admin.conversations import publish_as_sample
from conversations.models import Conversation, LLMModel
from sharing.models import Sample
from tests.accounts.factories import UserFactory
from tests.conversations.factories import (
    AssistantMessageFactory,
    ConversationFactory,
    FeedbackFactory,
    LLMModelFactory,
    MessageFactory,
)
from tests.sharing.factories import conversation_with_messages

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
DEVICES = "/admin/accounts/device/"


@pytest.fixture
def admin_user(db):
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def some_rows(user):
    conversation = ConversationFactory(owner=user, title="Admin view")
    MessageFactory(conversation=conversation, content="question")
    reply = AssistantMessageFactory(conversation=conversation, content="answer", latency_ms=120)
    FeedbackFactory(message=reply, user=user, rating="down", comment="off topic")
    return conversation


# --- users and devices ----------------------------------------------------------------------


def test_deactivate_and_sign_out_everywhere(admin_client, admin_user, auth_client, user, outsider):
    phone, laptop = auth_client(user, "phone"), auth_client(user, "laptop")
    bystander = auth_client(outsider, "phone")
    assert phone.get("/api/v1/user").status_code == 200

    r = admin_client.post(
        USERS,
        {"action": "deactivate_and_sign_out", "_selected_action": [user.pk, admin_user.pk]},
        follow=True,
    )

    assert r.status_code == 200
    assert "Deactivated 1 user," in r.content.decode()
    user.refresh_from_db()
    admin_user.refresh_from_db()
    assert not user.is_active
    assert admin_user.is_active  # an admin cannot lock themselves out by accident
    assert phone.get("/api/v1/user").status_code == 401
    assert laptop.get("/api/v1/user").status_code == 401
    assert not Device.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert bystander.get("/api/v1/user").status_code == 200


def test_reactivate(admin_client, auth_client, user, password, api_client):
    services.users_deactivate(users=User.objects.filter(pk=user.pk))

    r = admin_client.post(USERS, {"action": "reactivate", "_selected_action": [user.pk]}, follow=True)

    assert "Reactivated 1 user." in r.content.decode()
    user.refresh_from_db()
    assert user.is_active
    assert api_client.post("/api/v1/auth/login", {"email": user.email, "password": password}).status_code == 200


def test_device_revoke_action(admin_client, auth_client, user):
    phone, laptop = auth_client(user, "phone"), auth_client(user, "laptop")

    r = admin_client.post(DEVICES, {"action": "revoke", "_selected_action": [str(phone.device.pk)]}, follow=True)

    assert "Revoked 1 device session." in r.content.decode()
    assert phone.get("/api/v1/user").status_code == 401
    assert laptop.get("/api/v1/user").status_code == 200


# --- the model catalog ---------------------------------------------------------------------


def _action(client, model: str, action: str, pks) -> list[str]:
    response = client.post(
        f"/admin/conversations/{model}/",
        {"action": action, "_selected_action": [str(pk) for pk in pks]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_enable_and_disable_actions(admin_client):
    example = LLMModel.objects.get(slug="gpt-4o-mini")
    assert _action(admin_client, "llmmodel", "enable", [example.pk]) == ["Enabled 1 model."]
    assert LLMModel.objects.get(pk=example.pk).enabled
    default = LLMModel.objects.get(is_default=True)
    notes = _action(admin_client, "llmmodel", "disable", [example.pk, default.pk])
    assert notes[0] == "Disabled 1 model."
    assert "default" in notes[1]
    assert not LLMModel.objects.get(pk=example.pk).enabled
    assert LLMModel.objects.get(pk=default.pk).enabled  # the default is never switched off


def test_make_default_action_moves_the_default(admin_client):
    example = LLMModel.objects.get(slug="ollama-llama3-2")
    notes = _action(admin_client, "llmmodel", "make_default", [example.pk])
    assert "now the default" in notes[0]
    assert list(LLMModel.objects.filter(is_default=True).values_list("slug", flat=True)) == ["ollama-llama3-2"]
    assert LLMModel.objects.get(pk=example.pk).enabled


def test_make_default_needs_exactly_one_model(admin_client):
    pks = LLMModel.objects.values_list("pk", flat=True)[:2]
    notes = _action(admin_client, "llmmodel", "make_default", pks)
    assert "exactly one" in notes[0]
    assert LLMModel.objects.get(is_default=True).slug == "smollm2-135m"


def test_test_connection_reports_an_unreachable_upstream(admin_client):
    # Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
    broken = LLMModelFactory(slug="nowhere", base_url="http://127.0.0.1:9/v1", request_timeout_seconds=2)
    notes = _action(admin_client, "llmmodel", "test_connection", [broken.pk])
    assert len(notes) == 1
    assert notes[0].startswith("nowhere: failed")


@pytest.mark.slow
def test_test_connection_reaches_the_local_model_server(admin_client, local_model):
    local = LLMModel.objects.get(slug="smollm2-135m")
    notes = _action(admin_client, "llmmodel", "test_connection", [local.pk])
    # And what it honours, which its row already says (migration 0015): nothing to add.
    assert notes == [
        "smollm2-135m: OK",
        "smollm2-135m: the upstream (the embedded model's server) says it supports structured_output.",
    ]


# --- publish as sample ------------------------------------------------------------------------


def test_publish_as_sample_action(admin_client, some_rows):
    notes = _action(admin_client, "conversation", "publish_as_sample", [some_rows.pk])
    assert "Published 1" in notes[0]
    assert Sample.objects.filter(source_conversation=some_rows).count() == 1


def test_publish_as_sample_action_snapshots_each_conversation(rf, user, staff_user):
    full = conversation_with_messages(owner=user, pairs=[("Q", "A")])
    empty = conversation_with_messages(owner=user, pairs=[])
    request = rf.post("/admin/")
    request.user = staff_user
    sent: list[str] = []

    class FakeAdmin:
        def message_user(self, request, message, level=None):
            sent.append(message)

    publish_as_sample(FakeAdmin(), request, Conversation.objects.filter(pk__in=[full.pk, empty.pk]))

    sample = Sample.objects.get()
    assert (sample.source_conversation, sample.created_by, sample.published) == (full, staff_user, True)
    assert sent[0] == "Published 1 conversation as a sample."
    assert "Skipped" in sent[1]


def test_publish_as_sample_from_the_conversation_admin(admin_client, user):
    conversation = conversation_with_messages(owner=user, pairs=[("Q", "A")])
    response = admin_client.post(
        reverse("admin:conversations_conversation_changelist"),
        {"action": "publish_as_sample", "_selected_action": [str(conversation.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Published 1 conversation as a sample." in response.content.decode()
    assert Sample.objects.get().source_conversation == conversation
