"""allauth's private API we use, pinned: an allauth upgrade that moves or changes it fails here.

Everything private comes through ``accounts/social/allauth_internals.py`` (see its docstring);
this file checks the pinned version, the shape of every name that module re-exports, the two
behaviours of allauth it relies on, and that no other module imports ``allauth.*.internal``.
"""

import ast
import inspect
import json
import re
from importlib.metadata import version
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.sessions.backends.base import SessionBase
from django.http import JsonResponse
from django.test import Client

from accounts.social import allauth_internals as internals

ROOT = Path(__file__).resolve().parents[2]
INTERNALS_MODULE = ROOT / "accounts" / "social" / "allauth_internals.py"
THIS_FILE = Path(__file__).resolve()  # names private modules as examples for the scan below
_PRIVATE_MODULE = re.compile(r"^allauth(\.\w+)*\.internal(\.\w+)*$")


def _params(function) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


def test_installed_allauth_is_the_pinned_one():
    pins = (ROOT / "requirements.txt").read_text()
    pinned = re.search(r"^django-allauth(?:\[[^\]]*\])?==(\S+)", pins, re.MULTILINE)
    assert pinned, "django-allauth is no longer pinned in requirements.txt"
    assert version("django-allauth") == pinned.group(1), (
        "allauth was upgraded: re-check accounts/social/allauth_internals.py against the new "
        "release, then update this pin check"
    )


# Every name the internals module re-exports, with a check of the shape we use.
SHAPES = {
    "get_authentication_records": lambda f: callable(f) and _params(f) == ["request", "user"],
    "purge_request_user_cache": lambda f: callable(f) and _params(f) == ["request"],
    "session_store": lambda f: (
        callable(f)
        and _params(f) == ["session_key"]
        and isinstance(f(), SessionBase)
        and f("k" * 32).session_key == "k" * 32
    ),
    "APIResponse": lambda cls: (
        issubclass(cls, JsonResponse)
        and {"request", "data", "meta", "status"} <= set(_params(cls.__init__))
        and _params(cls.__init__)[0] == "request"
    ),
    "ConfigResponse": lambda cls: issubclass(cls, internals.APIResponse) and _params(cls.__init__) == ["request"],
    "ForbiddenResponse": lambda cls: issubclass(cls, internals.APIResponse) and _params(cls.__init__) == ["request"],
    "ConfigView": lambda cls: callable(getattr(cls, "as_api_view", None)) and callable(getattr(cls, "get", None)),
    "Client": lambda enum: enum.APP == "app",
    "Flow": lambda enum: (enum.PROVIDER_REDIRECT, enum.PROVIDER_TOKEN) == ("provider_redirect", "provider_token"),
    "STATE_TTL": lambda value: isinstance(value, int) and value > 0,
}


def test_every_reexported_name_is_checked():
    assert sorted(internals.__all__) == sorted(SHAPES)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_reexported_name_has_the_shape_we_use(db, name):
    assert SHAPES[name](getattr(internals, name)), f"allauth changed {name}; see allauth_internals.py"


def test_config_view_serves_the_app_client(db):
    body = Client().get("/_allauth/app/v1/config").json()
    assert body["status"] == 200 and "socialaccount" in body["data"]


# --- behaviour relied on -------------------------------------------------------------------------


def test_state_changed_while_generating_its_id_is_the_state_stashed(db, settings):
    """``stash_state`` keeps the dict it gave ``generate_state_param`` (adapters.py swaps "next")."""
    from accounts.social import pending_flows

    settings.SOCIALACCOUNT_PROVIDERS = {"github": {"APPS": [{"client_id": "id", "secret": "s", "key": ""}]}}
    settings.SOCIAL_ALLOWED_CALLBACK_URLS = ["myapp://auth"]
    started = Client().post(
        "/_allauth/app/v1/auth/provider/redirect",
        {"provider": "github", "callback_url": "myapp://auth", "process": "login"},
    )
    state_id = parse_qs(urlsplit(started["Location"]).query)["state"][0]
    flow = pending_flows.take(state_id)
    assert flow.callback_url == "myapp://auth"
    stashed = json.dumps(internals.session_store(flow.session_key).load())
    assert pending_flows.ALLAUTH_RETURN_PATH in stashed
    assert "myapp:" not in stashed


def test_app_requests_ask_for_the_session_token_before_the_view_runs(db, user, password):
    """So token_strategy.DeviceTokenStrategy refuses a malformed device id before any login."""
    response = Client().post(
        "/_allauth/app/v1/auth/login",
        {"email": user.email, "password": password},
        content_type="application/json",
        HTTP_X_DEVICE_ID="not valid!",
    )
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.last_login is None


# --- one module imports allauth's internals -----------------------------------------------------


def _project_sources():
    skip = {".venv", "node_modules", "__pycache__"}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if not any(part in skip or part.startswith(".") for part in parts):
            yield path


def _private_references(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if _PRIVATE_MODULE.match(alias.name))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if _PRIVATE_MODULE.match(node.module):
                yield node.module
            else:  # from allauth.headless import internal
                yield from (
                    f"{node.module}.{alias.name}"
                    for alias in node.names
                    if _PRIVATE_MODULE.match(f"{node.module}.{alias.name}")
                )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # dotted paths handed to import_string(), mock.patch() or settings
            dotted = node.value.rsplit(".", 1)[0] if "." in node.value else node.value
            if _PRIVATE_MODULE.match(node.value) or _PRIVATE_MODULE.match(dotted):
                yield node.value


def test_no_other_module_imports_allauth_internals():
    found = {}
    for path in _project_sources():
        if path in (INTERNALS_MODULE, THIS_FILE):
            continue
        references = sorted(set(_private_references(ast.parse(path.read_text(), filename=str(path)))))
        if references:
            found[str(path.relative_to(ROOT))] = references
    assert found == {}, "import these through accounts/social/allauth_internals.py"


def test_the_scan_finds_what_it_looks_for():
    source = (
        "import allauth.headless.internal.authkit\n"
        "from allauth.socialaccount.internal.statekit import STATE_TTL\n"
        "from allauth.headless import internal\n"
        "from allauth.account.internal.flows import login\n"
        "x = 'allauth.headless.internal.sessionkit.session_store'\n"
        "from allauth.account.adapter import DefaultAccountAdapter\n"
    )
    assert sorted(_private_references(ast.parse(source))) == [
        "allauth.account.internal.flows",
        "allauth.headless.internal",
        "allauth.headless.internal.authkit",
        "allauth.headless.internal.sessionkit.session_store",
        "allauth.socialaccount.internal.statekit",
    ]
    assert INTERNALS_MODULE.exists()
    assert sorted(set(_private_references(ast.parse(INTERNALS_MODULE.read_text())))) != []
