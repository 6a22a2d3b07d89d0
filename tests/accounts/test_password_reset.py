"""Forgotten password: allauth's headless reset (``/_allauth/app/v1/auth/password/request`` and
``.../reset``) mails a link to the web client's reset page (``/reset-password#key={key}``, the
``HEADLESS_FRONTEND_URLS`` entry: the key in the fragment, never sent to a server); the new
password works, the old one does not, and every session opened with the old password ends."""

import re

import pytest
from django.core import mail
from django.test import Client

REQUEST = "/_allauth/app/v1/auth/password/request"
RESET = "/_allauth/app/v1/auth/password/reset"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/user"
NEW_PASSWORD = "Brand-new-42-pass"


def _login(api_client, email, password, device="laptop"):
    return api_client.post(LOGIN, {"email": email, "password": password, "device_id": device}, format="json")


def _reset_key(client, email) -> str:
    response = client.post(REQUEST, {"email": email}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver/reset-password#key=(\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    return link.group(1)


@pytest.mark.django_db
def test_the_emailed_link_opens_the_web_clients_reset_page(user):
    key = _reset_key(Client(), user.email)

    for path in ("/reset-password", f"/reset-password/{key}"):  # the link's page; an old link's
        page = Client().get(path)
        assert page.status_code == 200
        assert "text/html" in page["Content-Type"]
        assert key not in page.content.decode(), "the key stays in the address, never in the page"


@pytest.mark.django_db
def test_resetting_sets_the_new_password_and_signs_every_session_out(api_client, user, password):
    session = _login(api_client, user.email, password).json()
    key = _reset_key(Client(), user.email)

    response = Client().post(RESET, {"key": key, "password": NEW_PASSWORD}, content_type="application/json")

    assert response.status_code in (200, 401), response.content  # 401: reset, now sign in
    assert _login(api_client, user.email, password).status_code == 401
    assert _login(api_client, user.email, NEW_PASSWORD, device="phone").status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")
    assert api_client.get(ME).status_code == 401, "the session opened with the old password ended"


@pytest.mark.django_db
def test_a_bad_or_used_key_is_a_clear_400(user):
    key = _reset_key(Client(), user.email)
    first = Client().post(RESET, {"key": key, "password": NEW_PASSWORD}, content_type="application/json")
    assert first.status_code in (200, 401)

    again = Client().post(RESET, {"key": key, "password": "Another-42-pass"}, content_type="application/json")
    assert again.status_code == 400
    assert again.json()["errors"][0]["param"] == "key"
    forged = Client().post(RESET, {"key": "1-abc-def", "password": NEW_PASSWORD}, content_type="application/json")
    assert forged.status_code == 400


@pytest.mark.django_db
def test_a_weak_new_password_is_refused_naming_the_rule(user):
    key = _reset_key(Client(), user.email)
    response = Client().post(RESET, {"key": key, "password": "12345678"}, content_type="application/json")
    assert response.status_code == 400
    assert "common" in response.content.decode().lower() or "numeric" in response.content.decode().lower()


@pytest.mark.django_db
def test_an_unknown_email_gets_the_same_answer_and_no_mail(db):
    response = Client().post(REQUEST, {"email": "nobody@example.com"}, content_type="application/json")
    assert response.status_code == 200
    assert mail.outbox == []


def test_the_reset_mail_leaves_the_request_for_the_job_worker(user, settings):
    # allauth mails known addresses only: sent in the request, the answer for an account that
    # exists would wait on the mail server, and its timing would say the account exists.
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    response = Client().post(REQUEST, {"email": user.email}, content_type="application/json")
    assert response.status_code == 200
    assert mail.outbox == []
    job = DBTaskResult.objects.get(task_path="accounts.tasks.mail_deliver_job")
    (message,) = job.args_kwargs["args"]
    assert message["to"] == [user.email] and "#key=" in message["body"]
