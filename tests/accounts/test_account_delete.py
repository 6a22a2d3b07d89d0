"""DELETE /api/v1/user: the account and everything it owns go, confirmed by the password (or, for
an account without one, by typing ``DELETE <email>``); ``accounts.services.user_delete`` does it."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessAttempt, AccessFailureLog
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import services
from accounts.models import ApiKey, Device, UserSettings
from collector import services as collector_services
from conversations import services as conversation_services
from conversations.models import Conversation, Feedback, Message, MessageStatus, Role
from sharing import services as sharing_services
from sharing.models import Sample, Share
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.conversations.factories import ConversationFactory, FeedbackFactory, MessageFactory
from tests.sharing.factories import SampleFactory, conversation_with_messages
from todos import services as todo_services

pytestmark = pytest.mark.django_db

USER = "/api/v1/user"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def rows_referencing(user_pk) -> dict[str, int]:
    """Every row of every model with a foreign key (or one-to-one, or many-to-many table) to the
    user model that still points at ``user_pk``: walked from the app registry, so a model added
    later is covered without touching this test."""
    user_model = get_user_model()
    found = {}
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is user_model:
                count = model._base_manager.filter(**{field.attname: user_pk}).count()
                if count:
                    found[f"{model._meta.label}.{field.name}"] = count
    return found


def a_full_account(user, outsider):
    """``user`` with something in every table an account can reach."""
    conversation = conversation_with_messages(owner=user, pairs=(("Hi", "Hello"), ("More?", "Sure")))
    reply = conversation.messages.filter(role=Role.ASSISTANT).first()
    FeedbackFactory(message=reply, user=user)
    ConversationFactory(owner=user, title="empty one")
    share = sharing_services.share_create(user=user, conversation=conversation, title="public")
    clone = sharing_services.share_clone(share=share, user=outsider)  # the outsider's copy
    sample = SampleFactory(created_by=user, source_conversation=conversation)
    file_item = collector_services.item_create(
        user=user, kind="file", file=SimpleUploadedFile("notes.txt", b"private notes"), tags=["work"]
    )
    collector_services.item_create(user=user, kind="note", title="a note", content="text", tags=["work", "home"])
    todo_services.todo_create(user=user, title="buy milk")
    services.api_key_create(user=user, name="script")
    services.session_start(user=user, device_id="phone")
    SocialAccount.objects.create(user=user, provider="github", uid="4242")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return {"conversation": conversation, "share": share, "clone": clone, "sample": sample, "file_item": file_item}


def test_deleting_the_account_leaves_no_row_of_it_and_no_file(
    auth_client, user, outsider, _media_root, django_capture_on_commit_callbacks
):
    made = a_full_account(user, outsider)
    client = auth_client(user, device_id="laptop")
    stored = _media_root / made["file_item"].stored_file.blob.name
    assert stored.exists()
    theirs = ConversationFactory(owner=outsider)
    assert rows_referencing(user.pk)  # the walk finds what is there

    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(USER, {"password": DEFAULT_PASSWORD}, format="json")

    assert response.status_code == 204, response.content
    assert rows_referencing(user.pk) == {}
    assert not get_user_model().objects.filter(pk=user.pk).exists()
    assert not stored.exists()
    assert not list((_media_root / "files" / str(user.pk)).glob("*"))
    # What is not the user's stays: the outsider's conversations (a clone of the user's share is a
    # copy), and the curated sample, without its author or source.
    assert Conversation.objects.filter(pk__in=[theirs.pk, made["clone"].pk]).count() == 2
    assert not Share.objects.filter(pk=made["share"].pk).exists()
    sample = Sample.objects.get(pk=made["sample"].pk)
    assert (sample.created_by_id, sample.source_conversation_id) == (None, None)
    # The session that asked is over at once.
    assert client.get(USER).status_code == 401


def test_the_service_deletes_files_only_after_commit(user, _media_root, django_capture_on_commit_callbacks):
    item = collector_services.item_create(user=user, kind="file", file=SimpleUploadedFile("a.txt", b"abc"))
    stored = _media_root / item.stored_file.blob.name
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deleted = services.user_delete(user=user)
    assert stored.exists()  # until the deletion is committed
    for callback in callbacks:
        callback()
    assert not stored.exists()
    assert (deleted.email, deleted.conversations, deleted.files) == ("alice@example.com", 0, 1)


def test_every_model_holding_files_has_them_removed_with_its_rows():
    # One rule (core/files.py) for every installed model with a FileField, whichever app it is in:
    # a new model holding files cannot forget its clean-up (account deletion relies on it).
    from django.apps import apps
    from django.db import models
    from django.db.models.signals import post_delete

    holding = [m for m in apps.get_models() if any(isinstance(f, models.FileField) for f in m._meta.concrete_fields)]
    assert {m._meta.label for m in holding} >= {
        "collector.Item",
        "files.StoredFile",
        "portability.Import",
        "portability.Export",
    }
    for model in holding:
        assert post_delete.has_listeners(model), model


def test_imports_and_exports_files_go_too(user, _media_root, django_capture_on_commit_callbacks):
    if not apps.is_installed("portability"):
        pytest.skip("the portability app is not installed yet")
    from portability.models import Export

    export = Export.objects.create(owner=user, status="done")
    export.file.save("x.zip", ContentFile(b"zip bytes"))
    stored = _media_root / export.file.name
    assert stored.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.user_delete(user=user)
    assert not stored.exists()


def test_refresh_tokens_and_failed_password_records_of_the_account_go(user, outsider):
    services.session_start(user=user, device_id="one")
    services.session_start(user=outsider, device_id="one")
    AccessFailureLog.objects.create(username=user.email, ip_address="10.0.0.1", user_agent="x", locked_out=False)
    AccessAttempt.objects.create(username=user.email, ip_address="10.0.0.1", user_agent="x", failures_since_start=3)
    AccessFailureLog.objects.create(username=outsider.email, ip_address="10.0.0.1", user_agent="x", locked_out=False)

    services.user_delete(user=user)

    # simplejwt would keep them with an empty user (SET_NULL): they go with the account.
    assert OutstandingToken.objects.count() == 1
    assert list(AccessFailureLog.objects.values_list("username", flat=True)) == [outsider.email]
    assert not AccessAttempt.objects.exists()


def test_replies_in_flight_are_told_to_stop_after_commit(user, monkeypatch, django_capture_on_commit_callbacks):
    from conversations import generation

    conversation = ConversationFactory(owner=user)
    MessageFactory(conversation=conversation, role=Role.USER, content="hi")
    reply = MessageFactory(conversation=conversation, role=Role.ASSISTANT, status=MessageStatus.STREAMING)
    stopped = []
    monkeypatch.setattr(generation, "request_stop", lambda *, message_id: stopped.append(message_id))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.user_delete(user=user)
    assert stopped == []
    for callback in callbacks:
        callback()
    assert stopped == [reply.pk]


def test_a_big_account_is_deleted_in_batches(user, monkeypatch):
    monkeypatch.setattr(conversation_services, "CONVERSATIONS_DELETE_BATCH", 3)
    for n in range(7):
        conversation = ConversationFactory(owner=user, title=f"c{n}")
        MessageFactory(conversation=conversation, role=Role.USER, content="x")
    services.user_delete(user=user)
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()


def test_a_wrong_password_is_a_400_naming_it_and_counts_as_a_failed_sign_in(user_client, user):
    response = user_client.delete(USER, {"password": "not-it"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["password"]
    assert AccessFailureLog.objects.filter(username=user.email).count() == 1
    assert get_user_model().objects.filter(pk=user.pk).exists()
    assert user_client.get(USER).status_code == 200


def test_a_missing_password_is_a_400_naming_it(user_client, user):
    for body in ({}, {"confirm": f"DELETE {user.email}"}):  # the phrase is for accounts without one
        response = user_client.delete(USER, body, format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["password"]
    assert get_user_model().objects.filter(pk=user.pk).exists()


def test_wrong_types_are_refused(user_client):
    response = user_client.delete(USER, {"password": 12345678}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()


def test_guessing_the_password_here_is_locked_out_like_a_sign_in(user_client, user, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT_IP = 3
    settings.AXES_FAILURE_LIMIT = 3
    statuses = [user_client.delete(USER, {"password": f"guess-{n}"}, format="json").status_code for n in range(4)]
    assert statuses[:2] == [400, 400]
    assert statuses[-1] == 429
    # Locked out: even the right password does not delete the account now.
    response = user_client.delete(USER, {"password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_failed_logins"
    assert get_user_model().objects.filter(pk=user.pk).exists()


@pytest.fixture
def social_user(db):
    user = services.user_create(email="sam@example.com", password=None)
    SocialAccount.objects.create(user=user, provider="google", uid="sam-1")
    return user


def test_an_account_without_a_password_confirms_with_the_phrase(
    auth_client, social_user, django_capture_on_commit_callbacks
):
    client = auth_client(social_user, login_type="google")
    for body in ({}, {"password": "anything"}, {"confirm": "DELETE someone@example.com"}, {"confirm": "delete"}):
        response = client.delete(USER, body, format="json")
        assert response.status_code == 400, body
        assert list(response.json()) == ["confirm"]
        assert "DELETE sam@example.com" in response.json()["confirm"][0]
    assert get_user_model().objects.filter(pk=social_user.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(USER, {"confirm": "DELETE sam@example.com"}, format="json")
    assert response.status_code == 204
    assert rows_referencing(social_user.pk) == {}


def test_signed_out_callers_get_401(api_client):
    assert api_client.delete(USER, {"password": "x"}, format="json").status_code == 401


def test_deleting_leaves_other_accounts_alone(user, outsider):
    conversation = conversation_with_messages(owner=outsider)
    FeedbackFactory(message=conversation.messages.filter(role=Role.ASSISTANT).first(), user=outsider)
    todo_services.todo_create(user=outsider, title="theirs")
    services.api_key_create(user=outsider, name="theirs")
    services.user_delete(user=user)
    assert Conversation.objects.filter(owner=outsider).count() == 1
    assert Feedback.objects.filter(user=outsider).count() == 1
    assert ApiKey.objects.filter(user=outsider).count() == 1
    assert UserSettings.objects.filter(user=outsider).exists()
    assert rows_referencing(outsider.pk)


def test_the_schema_documents_the_body_and_the_400(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/user"]["delete"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][body]["properties"]) == {"password", "confirm"}
    assert {"204", "400", "401", "429"} <= set(operation["responses"])


def test_devices_of_a_deleted_account_are_gone_not_just_revoked(user):
    services.session_start(user=user, device_id="a")
    services.user_delete(user=user)
    assert not Device.objects.filter(user_id=user.pk).exists()


def test_an_old_account_with_a_long_history_goes_too(user):
    # Messages older than anything the app writes now; two versions of a turn; an interrupted reply.
    conversation = ConversationFactory(owner=user)
    old = timezone.now() - timedelta(days=3000)
    first = MessageFactory(conversation=conversation, role=Role.USER, content="old", created_at=old)
    MessageFactory(conversation=conversation, role=Role.USER, content="old, edited", created_at=old, parent=None)
    MessageFactory(
        conversation=conversation, role=Role.ASSISTANT, status=MessageStatus.INTERRUPTED, created_at=old, parent=first
    )
    UserFactory(email="bystander@example.com")
    services.user_delete(user=user)
    assert rows_referencing(user.pk) == {}
