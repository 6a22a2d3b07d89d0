import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_check(**env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(env_overrides)
    return subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_a_real_secret_key():
    result = _run_check(DJANGO_SETTINGS_MODULE="config.settings.production")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_starts_with_a_secret_key_file(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text("k" * 20 + "a-long-random-value-from-a-secret-store-0123456789\n")
    result = _run_check(DJANGO_SETTINGS_MODULE="config.settings.production", DJANGO_SECRET_KEY_FILE=str(key_file))
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_embedded_database_is_sqlite_in_wal_mode_unless_database_url_is_set():
    from django.db import connection

    if os.environ.get("DATABASE_URL"):
        assert connection.vendor == "postgresql"
        return
    assert connection.vendor == "sqlite"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


@pytest.mark.django_db
def test_cors_allows_configured_origin_only(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    ok = client.options(
        "/api/v1/auth/login", HTTP_ORIGIN="https://app.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert ok["Access-Control-Allow-Origin"] == "https://app.example.com"
    other = client.options(
        "/api/v1/auth/login", HTTP_ORIGIN="https://evil.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in other


def _secret_key(**env_overrides) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.base", **env_overrides)
    code = "from django.conf import settings; print(settings.SECRET_KEY, settings.SIMPLE_JWT['SIGNING_KEY'])"
    command = [sys.executable, "manage.py", "shell", "-c", code]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)  # noqa: S603
    assert result.returncode == 0, result.stderr
    secret, signing = result.stdout.split()[-2:]
    assert signing == secret
    return secret


def test_without_a_configured_key_each_checkout_makes_its_own_and_keeps_it(tmp_path):
    key_file = tmp_path / "one" / ".secret_key"
    key_file.parent.mkdir()
    first = _secret_key(DJANGO_LOCAL_SECRET_KEY_FILE=str(key_file))
    # Made once, kept (tokens survive restarts), readable by its owner only.
    assert _secret_key(DJANGO_LOCAL_SECRET_KEY_FILE=str(key_file)) == first
    assert len(first) >= 50 and first in key_file.read_text()
    assert key_file.stat().st_mode & 0o077 == 0
    # Another checkout signs with another key: no key written in the repository signs anything.
    other = tmp_path / "two-secret-key"
    assert _secret_key(DJANGO_LOCAL_SECRET_KEY_FILE=str(other)) != first
    # A key from the environment wins.
    assert _secret_key(DJANGO_SECRET_KEY="e" * 60, DJANGO_LOCAL_SECRET_KEY_FILE=str(key_file)) == "e" * 60


def test_the_local_key_file_is_ignored_by_git():
    result = subprocess.run(["git", "check-ignore", "-q", ".secret_key"], cwd=ROOT, timeout=30)  # noqa: S603, S607
    assert result.returncode == 0
