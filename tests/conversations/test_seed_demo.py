"""``manage.py seed_demo`` (run by ``make run``): optional admin and demo accounts from the
environment; a password the rules refuse is one line naming the variable and the rules, never a
traceback, and nothing is created."""

import io
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from testsupport.servers import ROOT, manage, own_database, server_env

pytestmark = pytest.mark.django_db


def seed(monkeypatch, **env) -> tuple[str, str]:
    for name in ("DJANGO_SUPERUSER_EMAIL", "DJANGO_SUPERUSER_PASSWORD", "DEMO_USER_EMAIL", "DEMO_USER_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_creates_the_admin_and_the_demo_user_once(monkeypatch):
    env = {
        "DJANGO_SUPERUSER_EMAIL": "Root@Example.com",
        "DJANGO_SUPERUSER_PASSWORD": "Admin-pass-42",
        "DEMO_USER_EMAIL": "demo@example.com",
        "DEMO_USER_PASSWORD": "Demo-pass-42",
    }
    out, _ = seed(monkeypatch, **env)
    assert "created admin root@example.com" in out and "created demo user demo@example.com" in out
    root = User.objects.get(email="root@example.com")
    assert root.is_staff and root.is_superuser and root.check_password("Admin-pass-42")
    assert not User.objects.get(email="demo@example.com").is_staff

    out, _ = seed(monkeypatch, **env)
    assert "user root@example.com exists" in out and User.objects.count() == 2


def test_nothing_set_creates_nothing_and_reports_the_catalog(monkeypatch):
    out, err = seed(monkeypatch)
    assert User.objects.count() == 0 and err == ""
    assert out.startswith("plans: ")


@pytest.mark.parametrize(
    ("password", "rules"),
    [
        ("short1A", ["too short"]),
        ("password", ["too common", "at least one digit", "upper-case"]),
        ("12345678", ["too common", "entirely numeric", "upper-case"]),
        ("Root@example.com1", ["too similar to the email"]),
        ("longenough1", ["upper-case"]),
    ],
)
def test_a_refused_password_names_the_variable_and_every_rule_it_breaks(monkeypatch, password, rules):
    with pytest.raises(CommandError) as caught:
        seed(
            monkeypatch,
            DJANGO_SUPERUSER_EMAIL="root@example.com",
            DJANGO_SUPERUSER_PASSWORD=password,
            DEMO_USER_EMAIL="demo@example.com",
            DEMO_USER_PASSWORD="Demo-pass-42",
        )
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("DJANGO_SUPERUSER_PASSWORD is refused: ")
    for rule in rules:
        assert rule in message
    assert "Nothing was created" in message
    assert User.objects.count() == 0  # not even the valid demo user: fix the one line, run again


def test_both_refusals_are_said_at_once(monkeypatch):
    with pytest.raises(CommandError) as caught:
        seed(
            monkeypatch,
            DJANGO_SUPERUSER_EMAIL="not-an-email",
            DJANGO_SUPERUSER_PASSWORD="Admin-pass-42",
            DEMO_USER_EMAIL="demo@example.com",
            DEMO_USER_PASSWORD="demo",
        )
    assert "DJANGO_SUPERUSER_EMAIL is not an email address." in str(caught.value)
    assert "DEMO_USER_PASSWORD is refused: " in str(caught.value)


def test_half_a_pair_is_said_and_skipped(monkeypatch):
    out, err = seed(monkeypatch, DJANGO_SUPERUSER_EMAIL="root@example.com")
    assert err.strip() == "DJANGO_SUPERUSER_PASSWORD is not set: no admin created."
    assert User.objects.count() == 0


@pytest.mark.slow
def test_from_the_shell_a_weak_password_is_one_line_and_exit_status_1(tmp_path):
    with own_database(tmp_path, "seed") as database_url:
        env = server_env(database_url, tmp_path)
        manage(env, "migrate", "--noinput")
        env.update(DJANGO_SUPERUSER_EMAIL="root@example.com", DJANGO_SUPERUSER_PASSWORD="admin")
        done = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
            [sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("CommandError: DJANGO_SUPERUSER_PASSWORD is refused: ")
    assert "too short" in lines[0]
