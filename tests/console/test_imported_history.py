"""The dashboard counts what happened in this service: imported history keeps its original dates
(inside the window here) and counts for nothing; replies of a model removed from the catalog are
named in the tables and have no bar on the home's chart."""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from conversations.models import Conversation, Message, MessageStatus, Role
from conversations.services import PastMessage, conversation_create_from_history
from portability.models import Import, JobStatus
from tests.conversations.factories import ConversationFactory, LLMModelFactory, turn
from tests.portability import chatgpt_export as gpt

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def staff_web(staff_user) -> Client:
    staff_user.is_superuser = True
    staff_user.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(staff_user)
    return client


def _dated(data, shift: float):
    """The export with every time moved by ``shift`` seconds (its history, two days ago)."""
    if isinstance(data, list):
        return [_dated(item, shift) for item in data]
    if isinstance(data, dict):
        return {
            key: (value + shift if key in ("create_time", "update_time") and value else _dated(value, shift))
            for key, value in data.items()
        }
    return data


def test_an_imported_chatgpt_history_dated_in_the_window_is_not_activity(
    user_client, user, staff_web, django_capture_on_commit_callbacks
):
    two_days_ago = (timezone.now() - timedelta(days=2)).timestamp()
    export = _dated(gpt.export(), two_days_ago - gpt.T0)
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(
            "/api/v1/imports",
            {"file": SimpleUploadedFile("conversations.json", json.dumps(export).encode())},
            format="multipart",
        )
    assert response.status_code == 202, response.content
    assert Import.objects.get().status == JobStatus.DONE
    imported = Message.objects.filter(conversation__owner=user)
    # The history keeps its dates, two days ago, inside the dashboard's window.
    assert imported.count() == 8  # every version of every turn (the regenerated first answer too)
    assert all(timezone.now() - m.created_at > timedelta(days=1) for m in imported)
    # One message sent today, in this service.
    turn(ConversationFactory(owner=user))

    usage = staff_web.get("/admin/usage/").context
    assert usage["totals"]["messages"] == 1 and usage["totals"]["replies"] == 1
    assert usage["totals"]["active_users"] == 1
    by_day = {row["day"]: row["user_messages"] for row in usage["per_day"]}
    assert by_day[timezone.localdate() - timedelta(days=2)] == 0
    assert by_day[timezone.localdate()] == 1
    assert [row["messages"] for row in usage["top_users"]] == [1]
    assert [row["replies"] for row in usage["per_model"]] == [1]

    home = staff_web.get("/admin/").context["home"]
    chart = json.loads(next(c for c in home["charts"] if c.key == "messages-per-day").data)
    assert sum(sum(dataset["data"]) for dataset in chart["datasets"]) == 1


def test_failed_replies_of_imported_history_are_not_the_latest_failures(user, staff_web):
    yesterday = timezone.now() - timedelta(days=1)
    conversation_create_from_history(
        owner=user,
        title="From another server",
        messages=[
            PastMessage(role=Role.USER, content="hello", created_at=yesterday),
            PastMessage(role=Role.ASSISTANT, content="", created_at=yesterday, status=MessageStatus.ERROR),
        ],
        count=2,
    )
    assert Message.objects.filter(status=MessageStatus.ERROR).count() == 1
    ours = turn(ConversationFactory(owner=user), status=MessageStatus.ERROR, error_code="upstream_timeout")

    rows = staff_web.get("/admin/").context["home"]["latest_failures"]["rows"]

    assert len(rows) == 1
    assert f"/admin/conversations/message/{ours.pk}/change/" in str(rows[0][0])
    assert Conversation.objects.filter(title="From another server").exists()


def test_replies_of_a_removed_model_have_no_bar_and_a_name_in_the_table(user, staff_web):
    kept = LLMModelFactory(slug="kept", display_name="Kept model")
    gone = LLMModelFactory(slug="gone", display_name="Gone model")
    turn(ConversationFactory(owner=user, model=kept), model=kept)
    for _ in range(2):
        turn(ConversationFactory(owner=user, model=gone), model=gone)
    gone.delete()

    home = staff_web.get("/admin/").context["home"]
    chart = next(c for c in home["charts"] if c.key == "tokens-per-model")
    assert json.loads(chart.data)["labels"] == ["Kept model"]
    assert "(deleted model)" not in chart.data
    assert "2 replies of models removed from the catalog since are not shown." in chart.note

    page = staff_web.get("/admin/usage/", HTTP_ACCEPT_LANGUAGE="en")
    assert [row["name"] for row in page.context["per_model"]] == ["Models removed from the catalog", "Kept model"]
    assert "(deleted model)" not in page.content.decode()
