"""Custom instructions in the user export (settings.json) and back in with an import of it: into an
account that has none; an import never replaces instructions the user wrote."""

import io
import json
import zipfile

import pytest
from django.utils import timezone

from accounts.models import UserSettings
from portability.archive import write_user_archive

from .conftest import IMPORTS

pytestmark = pytest.mark.django_db

INSTRUCTIONS = "저는 서울에 사는 개발자예요. 답은 한국어로, 짧게 해 주세요."


def instruct(user, text: str) -> None:
    UserSettings.objects.filter(user=user).update(custom_instructions=text, time_zone="Asia/Seoul")


def instructions_of(user) -> str:
    return UserSettings.objects.get(user=user).custom_instructions


def export_of(user) -> bytes:
    out = io.BytesIO()
    write_user_archive(user=user, fileobj=out, exported_at=timezone.now())
    return out.getvalue()


def test_the_export_holds_the_instructions_and_the_time_zone(user):
    instruct(user, INSTRUCTIONS)

    settings_part = json.loads(zipfile.ZipFile(io.BytesIO(export_of(user))).read("settings.json"))

    assert settings_part["custom_instructions"] == INSTRUCTIONS
    assert settings_part["time_zone"] == "Asia/Seoul"


def test_an_import_brings_them_into_an_account_without_any(user, outsider, outsider_client, upload):
    instruct(user, INSTRUCTIONS)

    body = upload(outsider_client, export_of(user), name="chat-export.zip").json()

    assert outsider_client.get(f"{IMPORTS}/{body['id']}").json()["status"] == "done"
    assert instructions_of(outsider) == INSTRUCTIONS


def test_an_import_never_replaces_the_users_own(user, outsider, outsider_client, upload):
    instruct(user, INSTRUCTIONS)
    instruct(outsider, "Answer in English.")

    body = upload(outsider_client, export_of(user), name="chat-export.zip").json()

    assert outsider_client.get(f"{IMPORTS}/{body['id']}").json()["status"] == "done"
    assert instructions_of(outsider) == "Answer in English."


def test_instructions_past_the_cap_are_left_out_not_cut(user, outsider, outsider_client, upload, settings):
    instruct(user, INSTRUCTIONS)
    settings.CUSTOM_INSTRUCTIONS_MAX_CHARS = 10

    body = upload(outsider_client, export_of(user), name="chat-export.zip").json()

    assert outsider_client.get(f"{IMPORTS}/{body['id']}").json()["status"] == "done"
    assert instructions_of(outsider) == ""
