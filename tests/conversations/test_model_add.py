"""``manage.py model_add``: adds or updates a catalog row through the admin's own checks, with
one-line errors and a non-zero exit; capabilities are checked in the admin form as well."""

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from conversations.admin import LLMModelAdminForm
from conversations.models import LLMModel

pytestmark = pytest.mark.django_db


def test_adds_then_updates_the_same_slug():
    call_command(
        "model_add",
        "gpt-4o",
        "--base-url",
        "https://api.openai.com/v1",
        "--upstream-model",
        "gpt-4o",
        "--api-key-env",
        "OPENAI_API_KEY",
        "--capabilities",
        "vision",
        "--context-window",
        "128000",
        "--max-output-tokens",
        "16384",
        "--display-name",
        "GPT-4o",
    )
    model = LLMModel.objects.get(slug="gpt-4o")
    assert (model.provider, model.base_url, model.upstream_model) == ("openai", "https://api.openai.com/v1", "gpt-4o")
    assert (model.api_key_env, model.capabilities, model.context_window) == ("OPENAI_API_KEY", ["vision"], 128000)
    assert model.display_name == "GPT-4o"

    call_command("model_add", "gpt-4o", "--base-url", "https://proxy.example/v1", "--upstream-model", "gpt-4o-mini")
    model.refresh_from_db()
    assert LLMModel.objects.filter(slug="gpt-4o").count() == 1
    assert (model.base_url, model.upstream_model) == ("https://proxy.example/v1", "gpt-4o-mini")
    assert model.capabilities == ["vision"] and model.context_window == 128000  # not given: kept

    call_command(
        "model_add", "gpt-4o", "--base-url", "https://proxy.example/v1", "--upstream-model", "x", "--capabilities", ""
    )
    model.refresh_from_db()
    assert model.capabilities == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--base-url", "not a url"], "base_url"),
        (["--api-key-env", "DJANGO_SECRET_KEY"], "api_key_env"),
        (["--capabilities", "vision,telepathy"], "telepathy"),
        (["--context-window", "0"], "context-window"),
    ],
)
def test_refusals_are_one_line_and_write_nothing(extra, message):
    args = ["model_add", "bad", "--base-url", "https://ok.example/v1", "--upstream-model", "m", *extra]
    with pytest.raises(CommandError) as refused:
        call_command(*args)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert not LLMModel.objects.filter(slug="bad").exists()


def test_the_shell_sees_one_line_on_stderr_and_a_non_zero_exit(capsys):
    # As `manage.py model_add ...` runs it (argv parsing, Django's handling of CommandError).
    argv = ["manage.py", "model_add", "x", "--base-url", "ftp://nope", "--upstream-model", "m"]
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(argv).execute()
    assert exited.value.code != 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "base_url" in lines[0], lines


def test_the_admin_form_offers_only_known_capabilities():
    data = {
        "slug": "v",
        "display_name": "V",
        "provider": "openai",
        "upstream_model": "m",
        "base_url": "https://ok.example/v1",
        "context_window": 4096,
        "max_output_tokens": 256,
        "temperature": 0.7,
        "request_timeout_seconds": 60,
        "order": 0,
        "enabled": True,
    }
    form = LLMModelAdminForm(data={**data, "capabilities": ["telepathy"]})
    assert not form.is_valid() and "capabilities" in form.errors
    form = LLMModelAdminForm(data={**data, "capabilities": ["vision"]})
    assert form.is_valid(), form.errors
    assert form.save().capabilities == ["vision"]
    row = LLMModel(**{**data, "slug": "w", "capabilities": ["vision", "sonar"]})
    with pytest.raises(Exception, match="sonar"):
        row.full_clean()


@pytest.mark.parametrize(
    "argv, said",
    [
        (["manage.py", "model_add"], "required: slug, --base-url, --upstream-model"),
        (
            [
                "manage.py",
                "model_add",
                "x",
                "--base-url",
                "http://h/v1",
                "--upstream-model",
                "m",
                "--context-window",
                "abc",
            ],
            "--context-window: invalid int value",
        ),
    ],
)
def test_a_usage_error_is_one_line_too(argv, said, capsys):
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(argv).execute()
    assert exited.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and said in lines[0], lines
    assert not LLMModel.objects.filter(slug="x").exists()
