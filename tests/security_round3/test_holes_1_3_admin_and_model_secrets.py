"""Issue 18 (security round three), reproduced against a live server as they were found:

- hole 1: staff who are not superusers take over a superuser through Django's password form
  (``/admin/accounts/user/<id>/password/``);
- hole 3: staff who may edit model rows read a server secret: a model row naming
  ``api_key_env=DJANGO_SECRET_KEY`` with ``base_url`` at their own listener, then "Test
  connection" or a chat reply sends the secret as a bearer token.

Each signs in with a real session (cookies and CSRF, as a browser does) to the ASGI app under
uvicorn; the listener is a real HTTP server on a socket that records what it receives.
"""

import html

import httpx
import pytest
from django.contrib.auth.models import Permission

from accounts import services
from accounts.models import User
from conversations.models import LLMModel
from tests.accounts.admin_forms import form_data
from tests.conversations.factories import LLMModelFactory
from tests.conversations.upstream import UpstreamServer

pytestmark = pytest.mark.django_db(transaction=True)

ROOT_PASSWORD = "Root-pass-1234"
DEPUTY_PASSWORD = "Deputy-pass-42"
NEW_PASSWORD = "Taken-Over-99"
SERVER_SECRET = "django-secret-key-of-this-server-0123456789-abcdefghijklmnopqrstuvwxyz"


def staff_member(email: str, **permissions: list[str]) -> User:
    """Staff, not a superuser, with exactly these permissions (app label -> codenames)."""
    user = services.user_create(email=email, password=DEPUTY_PASSWORD)
    User.objects.filter(pk=user.pk).update(is_staff=True)
    for app_label, codenames in permissions.items():
        found = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        assert found.count() == len(codenames)
        user.user_permissions.add(*found)
    return user


def admin_session(base: str, email: str, password: str) -> httpx.Client:
    """Signed in through /admin/login/ as a browser is: the form, its CSRF cookie and token."""
    client = httpx.Client(base_url=base, timeout=30)
    client.get("/admin/login/")
    response = client.post(
        "/admin/login/?next=/admin/",
        data={"username": email, "password": password, "csrfmiddlewaretoken": client.cookies["csrftoken"]},
    )
    if response.status_code != 302:
        client.close()
        raise AssertionError(f"{email} could not sign in: {response.status_code}")
    return client


def can_sign_in(base: str, email: str, password: str) -> bool:
    try:
        admin_session(base, email, password).close()
    except AssertionError:
        return False
    return True


def post_form(client: httpx.Client, path: str, data: dict) -> httpx.Response:
    return client.post(path, data={**data, "csrfmiddlewaretoken": client.cookies["csrftoken"]})


# --- hole 1 -------------------------------------------------------------------------------------


def test_staff_cannot_set_a_superusers_password(asgi_server):
    root = User.objects.create_superuser(email="root@example.com", password=ROOT_PASSWORD)
    member = services.user_create(email="member@example.com", password="Member-pass-42")
    staff_member("deputy@example.com", accounts=["view_user", "change_user"])
    deputy = admin_session(asgi_server, "deputy@example.com", DEPUTY_PASSWORD)
    new_password = {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}

    # The same request on an ordinary account works: the request is right, the target is not.
    assert post_form(deputy, f"/admin/accounts/user/{member.pk}/password/", new_password).status_code == 302
    refused = post_form(deputy, f"/admin/accounts/user/{root.pk}/password/", new_password)
    deputy.close()

    assert refused.status_code == 403
    assert User.objects.get(pk=member.pk).check_password(NEW_PASSWORD)
    assert not can_sign_in(asgi_server, "root@example.com", NEW_PASSWORD)
    assert can_sign_in(asgi_server, "root@example.com", ROOT_PASSWORD)


# --- hole 3 -------------------------------------------------------------------------------------


@pytest.fixture
def listener():
    """The staff member's own "model server": answers like one and records every request."""
    server = UpstreamServer().start()
    yield server
    server.stop()


def authorizations(listener: UpstreamServer) -> list[str]:
    return [headers.get("authorization", "") for _, _, headers in listener.calls]


def test_a_model_row_cannot_send_the_servers_secret_to_a_url_staff_chose(asgi_server, listener, monkeypatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY", SERVER_SECRET)
    monkeypatch.setenv("LLM_KEY_LISTENER", "sk-a-key-the-operator-gave-this-model")
    model = LLMModelFactory(
        slug="mine",
        provider="openai",
        upstream_model="normal",
        base_url=listener.base_url,
        api_key_env="LLM_KEY_LISTENER",
        enabled=True,
    )
    staff_member("models@example.com", conversations=["view_llmmodel", "change_llmmodel"])
    staff = admin_session(asgi_server, "models@example.com", DEPUTY_PASSWORD)

    def test_connection() -> str:
        response = post_form(
            staff,
            "/admin/conversations/llmmodel/",
            {"action": "test_connection", "_selected_action": [str(model.pk)]},
        )
        assert response.status_code == 302
        return html.unescape(staff.get(response.headers["location"]).text)

    # The listener sees what an allowed variable sends: it would see the secret if it were sent.
    assert "mine: OK" in test_connection()
    # (The model list, then what the upstream supports: /models, /props, /api/show, one key for all.)
    assert set(authorizations(listener)) == {"Bearer sk-a-key-the-operator-gave-this-model"}
    listener.calls.clear()

    # The form refuses the server's secret...
    change = f"/admin/conversations/llmmodel/{model.pk}/change/"
    data = form_data(staff.get(change).text, "llmmodel_form", api_key_env="DJANGO_SECRET_KEY")
    refused = post_form(staff, change, data)
    assert refused.status_code == 200 and "is one of the server&#x27;s own settings" in refused.text
    assert LLMModel.objects.get(pk=model.pk).api_key_env == "LLM_KEY_LISTENER"
    # ...so it is forced into the row, as a row written before the rule (or by a migration) is.
    LLMModel.objects.filter(pk=model.pk).update(api_key_env="DJANGO_SECRET_KEY")

    listing = html.unescape(staff.get("/admin/conversations/llmmodel/").text)
    assert "Refused: DJANGO_SECRET_KEY is one of the server's own settings" in listing
    answer = test_connection()
    assert listener.calls == []
    assert "mine: failed: This model's API key variable is not allowed on this server" in answer

    member = services.user_create(email="member@example.com", password="Member-pass-42")
    access = services.session_start(user=member, device_id="laptop").tokens.access
    reply = httpx.post(
        f"{asgi_server}/api/v1/conversations?wait=true",
        json={"message": "Hello", "model": "mine"},
        headers={"Authorization": f"Bearer {access}"},
        timeout=60,
    )
    staff.close()

    assert reply.status_code == 201, reply.text
    assistant = reply.json()["assistant_message"]
    assert assistant["status"] == "error", assistant
    assert listener.calls == []  # neither Test connection nor the reply reached the listener
    assert SERVER_SECRET not in " ".join(authorizations(listener))
