"""The audit trail (django-auditlog): what staff change through the admin is recorded with who made
the change, from which address, and the field's old and new values; the chat traffic itself is
not tracked; no secret or password is ever written to the log."""

import json

import pytest
from allauth.socialaccount.models import SocialApp
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.db import connection
from django.forms import CheckboxInput, MultiWidget
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import ApiKey, Plan, User, UserSettings
from conversations.models import Conversation, LLMModel, Message, MessageStatus, Role
from tests.accounts.factories import UserFactory
from tests.conversations.factories import LLMModelFactory, PromptFactory
from tests.conversations.replies import finish_reply
from tests.conversations.upstream import upstream  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

STAFF_ADDRESS = "203.0.113.7"


@pytest.fixture
def admin_user(db):
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _form_data(form) -> dict:
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        key, value = form.add_prefix(name), form[name].value()
        if isinstance(field.widget, CheckboxInput):
            if value:
                data[key] = "on"
        elif isinstance(field.widget, MultiWidget):
            parts = field.widget.decompress(value) if value else [None] * len(field.widget.widgets)
            for suffix, part in zip(field.widget.widgets_names, parts, strict=True):
                data[key + suffix] = "" if part is None else str(part)
        elif isinstance(value, list | tuple):
            data[key] = [str(v) for v in value]
        else:
            data[key] = "" if value is None else value
    return data


def save_change_page(client, url: str, **changes):
    """What a staff member does: open the change page, change some fields, press Save. A change
    to None unticks a box."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    data = _form_data(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({formset.management_form.add_prefix(k): v for k, v in formset.management_form.initial.items()})
        for form in formset.forms:
            data.update(_form_data(form))
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}  # None: an unticked box, not posted
    response = client.post(url, {**data, "_save": "Save"}, REMOTE_ADDR=STAFF_ADDRESS)
    assert response.status_code == 302, (response.status_code, _errors(response))
    return response


def _errors(response):
    context = response.context or {}
    adminform = context.get("adminform")
    return adminform.form.errors if adminform else None


def entries_for(instance):
    return LogEntry.objects.get_for_object(instance).order_by("-timestamp", "-id")


def last_change(instance) -> LogEntry:
    entry = entries_for(instance).filter(action=LogEntry.Action.UPDATE).first()
    assert entry is not None, f"no audit entry for {instance!r}"
    return entry


# --- (a) staff changes through the admin --------------------------------------------------------


def test_a_plan_limit_changed_in_the_admin_is_recorded_with_the_staff_member_and_address(admin_client, admin_user):
    plan = Plan.objects.get(slug="free")
    old = plan.daily_message_limit

    save_change_page(admin_client, f"/admin/accounts/plan/{plan.pk}/change/", daily_message_limit=str(old + 25))

    entry = last_change(plan)
    assert entry.actor == admin_user and entry.actor_email == admin_user.email
    assert entry.remote_addr == STAFF_ADDRESS
    assert entry.changes_dict == {"daily_message_limit": [str(old), str(old + 25)]}


def test_a_models_enabled_flag_changed_in_the_admin_is_recorded(admin_client, admin_user):
    model = LLMModelFactory(slug="gpt-x", enabled=True, api_key_env="OPENAI_API_KEY")

    save_change_page(admin_client, f"/admin/conversations/llmmodel/{model.pk}/change/", enabled=None)

    entry = last_change(model)
    assert (entry.actor, entry.remote_addr) == (admin_user, STAFF_ADDRESS)
    assert entry.changes_dict == {"enabled": ["True", "False"]}


def test_a_prompt_toggled_in_the_list_is_recorded(admin_client, admin_user):
    prompt = PromptFactory(title="Plan a trip", enabled=True, order=3)
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(prompt.pk),
        "form-0-order": "3",
        "_save": "Save",
    }  # "form-0-enabled" left out: unticked

    response = admin_client.post("/admin/conversations/prompt/", data, REMOTE_ADDR=STAFF_ADDRESS)

    assert response.status_code == 302
    entry = last_change(prompt)
    assert (entry.actor, entry.remote_addr, entry.changes_dict) == (
        admin_user,
        STAFF_ADDRESS,
        {"enabled": ["True", "False"]},
    )


def test_is_staff_and_the_plan_changed_on_a_users_page_are_both_recorded(admin_client, admin_user, user):
    plus = Plan.objects.get(slug="plus")
    settings_row = UserSettings.objects.get(user=user)
    old_plan = settings_row.plan

    save_change_page(
        admin_client, f"/admin/accounts/user/{user.pk}/change/", is_staff="on", **{"settings-0-plan": str(plus.pk)}
    )

    user_entry = last_change(user)
    assert (user_entry.actor, user_entry.remote_addr) == (admin_user, STAFF_ADDRESS)
    assert user_entry.changes_dict == {"is_staff": ["False", "True"]}
    settings_entry = last_change(settings_row)
    assert (settings_entry.actor, settings_entry.remote_addr) == (admin_user, STAFF_ADDRESS)
    assert settings_entry.changes_dict == {"plan": [str(old_plan.pk), str(plus.pk)]}
    # Shown by name in the audit trail, not as a bare id.
    assert settings_entry.changes_display_dict["plan"] == [old_plan.name, plus.name]


def test_a_model_disabled_by_the_bulk_action_is_recorded(admin_client, admin_user):
    model = LLMModelFactory(slug="gpt-y", enabled=True)

    response = admin_client.post(
        "/admin/conversations/llmmodel/",
        {"action": "disable", "_selected_action": [str(model.pk)]},
        REMOTE_ADDR=STAFF_ADDRESS,
    )

    assert response.status_code == 302
    assert LLMModel.objects.get(pk=model.pk).enabled is False
    entry = last_change(model)
    assert entry.actor == admin_user


# --- (b) the audit trail in the admin -----------------------------------------------------------


def test_the_audit_trail_lists_the_changes_and_each_opens(admin_client, admin_user):
    plan = Plan.objects.get(slug="plus")
    save_change_page(admin_client, f"/admin/accounts/plan/{plan.pk}/change/", name="Plus (2026)")
    entry = last_change(plan)

    listing = admin_client.get("/admin/auditlog/logentry/")
    detail = admin_client.get(f"/admin/auditlog/logentry/{entry.pk}/change/")

    assert listing.status_code == 200
    body = listing.content.decode()
    assert "Plus (2026)" in body and admin_user.email in body
    assert detail.status_code == 200
    assert "Plus (2026)" in detail.content.decode()


def test_staff_need_the_view_permission_for_the_audit_trail(client):
    staff = UserFactory(email="ops@example.com", is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/auditlog/logentry/").status_code == 403

    staff.user_permissions.add(Permission.objects.get(codename="view_logentry", content_type__app_label="auditlog"))
    staff = User.objects.get(pk=staff.pk)  # permissions are cached on the instance
    client.force_login(staff)
    assert client.get("/admin/auditlog/logentry/").status_code == 200


# --- (c) changes made elsewhere -----------------------------------------------------------------


def test_a_users_own_plan_switch_through_the_api_is_recorded_without_an_actor(user_client, user):
    """Recorded, with no actor and no address: what a user changes about their own account is
    part of that account's history (a plan switch is a billing fact the operator may need), but
    only the admin sets an actor, so an empty "actor" means "not by staff". The entry is the
    user's settings row, so whose change it was is never in doubt."""
    Plan.objects.filter(slug="plus").update(selectable_by_user=True)
    settings_row = UserSettings.objects.get(user=user)
    free, plus = Plan.objects.get(slug="free"), Plan.objects.get(slug="plus")

    response = user_client.patch("/api/v1/user/settings/subscription", {"plan": "plus"}, format="json")

    assert response.status_code == 200, response.content
    entry = last_change(settings_row)
    assert entry.actor is None and entry.actor_email is None and entry.remote_addr is None
    assert entry.changes_dict["plan"] == [str(free.pk), str(plus.pk)]


def test_a_plan_granted_by_staff_through_the_api_names_the_staff_member(auth_client, staff_user, user):
    settings_row = UserSettings.objects.get(user=user)

    response = auth_client(staff_user).patch(
        f"/api/v1/users/{user.pk}/settings/subscription", {"plan": "plus"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert last_change(settings_row).actor == staff_user


# --- (d) the hot paths stay out of the audit trail ----------------------------------------------


def _audit_statements(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "auditlog_logentry" in q["sql"]]


def test_sending_a_message_writes_no_audit_entry(user_client):
    conversation_id = user_client.post("/api/v1/conversations", {"title": "hi"}, format="json").json()["id"]
    before = LogEntry.objects.count()

    with CaptureQueriesContext(connection) as ctx:
        response = user_client.post(
            f"/api/v1/conversations/{conversation_id}/messages", {"content": "hello"}, format="json"
        )

    assert response.status_code == 202, response.content
    assert _audit_statements(ctx) == []
    assert LogEntry.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_finishing_a_reply_writes_no_audit_entry(user, upstream):  # noqa: F811
    model = LLMModel.objects.create(
        slug="normal-5",
        display_name="normal:5",
        provider="openai",
        upstream_model="normal:5",
        base_url=upstream.base_url,
        request_timeout_seconds=2.0,
    )
    conversation = Conversation.objects.create(owner=user, model=model)
    Message.objects.create(conversation=conversation, role=Role.USER, content="Hello", model=model)
    reply = Message.objects.create(
        conversation=conversation, role=Role.ASSISTANT, status=MessageStatus.PENDING, model=model
    )
    before = LogEntry.objects.count()

    finish_reply(message_id=reply.id)

    reply.refresh_from_db()
    assert reply.status == MessageStatus.COMPLETE
    assert LogEntry.objects.count() == before


# --- secrets and passwords ----------------------------------------------------------------------


def _log_text() -> str:
    return json.dumps(
        list(LogEntry.objects.values("changes", "changes_text", "serialized_data", "additional_data", "object_repr")),
        default=str,
    )


def test_no_password_reaches_the_audit_trail(admin_client, password):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {"email": "new@example.com", "password1": "Fresh-Horse-77", "password2": "Fresh-Horse-77", "_save": "Save"},
        REMOTE_ADDR=STAFF_ADDRESS,
    )
    assert response.status_code == 302, _errors(response)
    created = User.objects.get(email="new@example.com")
    response = admin_client.post(
        f"/admin/accounts/user/{created.pk}/password/",
        {"password1": "Other-Horse-88", "password2": "Other-Horse-88"},
    )
    assert response.status_code == 302
    created.refresh_from_db()
    hashes = [created.password]
    services.password_change(user=created, current_device=None, old_password="Other-Horse-88", new_password=password)
    created.refresh_from_db()
    hashes.append(created.password)

    assert created.check_password(password)
    assert entries_for(created).filter(action=LogEntry.Action.CREATE).exists()
    text = _log_text()
    for secret in ("Fresh-Horse-77", "Other-Horse-88", password, *hashes, '"password"'):
        assert secret not in text


def test_an_api_keys_secret_and_hash_never_reach_the_audit_trail(user):
    key, raw = services.api_key_create(user=user, name="laptop")
    services.api_key_revoke(key=key)

    entries = entries_for(key)
    assert {e.action for e in entries} >= {LogEntry.Action.CREATE}
    text = _log_text()
    assert raw not in text and key.key_hash not in text and "key_hash" not in text
    assert ApiKey.objects.filter(pk=key.pk, key_hash=key.key_hash).exists()


OLD_SECRET = "gho-old-7Qm2ZkX9pLw4RtV8nYb3Hc6JdF1sGa5E"  # noqa: S105 (test value)
NEW_SECRET = "gho-new-3Vb8NcX1qTz6LmK9pWr2HjD7sFa4GeY5"  # noqa: S105 (test value)


def _social_app_with_secret_changed(admin_client, old: str, new: str) -> SocialApp:
    app = SocialApp.objects.create(provider="github", name="GitHub", client_id="client-1", secret=old)
    save_change_page(admin_client, f"/admin/socialaccount/socialapp/{app.pk}/change/", secret=new)
    return app


def test_a_social_apps_secret_is_masked_in_the_audit_trail(admin_client, admin_user):
    old, new = OLD_SECRET, NEW_SECRET
    app = _social_app_with_secret_changed(admin_client, old, new)

    entry = last_change(app)
    assert entry.actor == admin_user
    assert "secret" in entry.changes_dict  # the change itself is recorded...
    text = _log_text()
    assert old not in text and new not in text  # ...never the secret whole


def test_no_part_of_a_social_apps_secret_is_kept(admin_client):
    old, new = OLD_SECRET, NEW_SECRET
    _social_app_with_secret_changed(admin_client, old, new)

    text = _log_text()
    assert old[-12:] not in text and new[-12:] not in text
