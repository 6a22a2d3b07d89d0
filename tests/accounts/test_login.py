from urllib.parse import urlencode

import pytest

from accounts.models import Device
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/user"


def bearer(client, access):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_json_login_returns_a_token_pair_bound_to_a_device(api_client, user, password):
    r = api_client.post(
        LOGIN,
        {"email": user.email, "password": password, "device_id": "phone-1", "device_name": "Alice's phone"},
        HTTP_USER_AGENT="TestAgent/1.0",
    )

    assert r.status_code == 200, r.content
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["user"]["email"] == user.email
    assert body["device"]["device_id"] == "phone-1"
    assert body["device"]["login_type"] == "local"
    assert "access_token" not in body
    device = Device.objects.get(pk=body["device"]["id"])
    assert (device.user, device.name, device.user_agent, device.ip) == (
        user,
        "Alice's phone",
        "TestAgent/1.0",
        "127.0.0.1",
    )
    assert bearer(api_client, body["access"]).get(ME).json()["email"] == user.email


def test_form_login_with_username_for_swagger(api_client, user, password):
    # Swagger UI's OAuth2 password flow posts a urlencoded form.
    r = api_client.post(
        LOGIN,
        urlencode({"username": user.email.upper(), "password": password, "grant_type": "password"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 200, r.content

    r = api_client.generic(
        "POST",
        LOGIN,
        f"grant_type=password&username={user.email}&password={password}",
        content_type="application/x-www-form-urlencoded",
    )

    assert r.status_code == 200, r.content
    body = r.json()
    assert body["access_token"] == body["access"]
    assert bearer(api_client, body["access_token"]).get(ME).status_code == 200


def test_missing_device_id_is_generated_and_returned(api_client, user, password):
    first = api_client.post(LOGIN, {"email": user.email, "password": password}).json()
    second = api_client.post(LOGIN, {"email": user.email, "password": password}).json()

    assert len(first["device"]["device_id"]) >= 16
    assert first["device"]["device_id"] != second["device"]["device_id"]
    assert Device.objects.filter(user=user).count() == 2


def test_same_device_id_replaces_that_devices_tokens(api_client, user, password):
    old = api_client.post(LOGIN, {"email": user.email, "password": password, "device_id": "tablet"}).json()
    new = api_client.post(LOGIN, {"email": user.email, "password": password, "device_id": "tablet"}).json()

    assert new["device"]["id"] == old["device"]["id"]
    assert Device.objects.filter(user=user).count() == 1
    assert bearer(api_client, old["access"]).get(ME).status_code == 401
    api_client.credentials()
    stale = api_client.post(REFRESH, {"refresh": old["refresh"]})
    # A token of an earlier login on this device is simply dead, not a theft of the new login.
    assert stale.status_code == 401
    assert stale.json()["code"] == "token_not_valid"

    assert bearer(api_client, new["access"]).get(ME).status_code == 200
    api_client.credentials()
    assert api_client.post(REFRESH, {"refresh": new["refresh"]}).status_code == 200


def test_login_again_on_a_revoked_device_brings_it_back(api_client, user, password):
    first = api_client.post(LOGIN, {"email": user.email, "password": password, "device_id": "pc"}).json()
    assert bearer(api_client, first["access"]).post("/api/v1/auth/logout").status_code == 204
    api_client.credentials()

    again = api_client.post(LOGIN, {"email": user.email, "password": password, "device_id": "pc"}).json()

    assert again["device"]["id"] == first["device"]["id"]
    assert bearer(api_client, again["access"]).get(ME).status_code == 200
    # Coming back does not resurrect the tokens that were signed out.
    assert bearer(api_client, first["access"]).get(ME).status_code == 401


def test_wrong_password_and_unknown_email_look_the_same(api_client, user):
    wrong_password = api_client.post(LOGIN, {"email": user.email, "password": "Wrong-Password-1"})
    unknown_email = api_client.post(LOGIN, {"email": "nobody@example.com", "password": "Wrong-Password-1"})

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert (
        wrong_password.json()
        == unknown_email.json()
        == {
            "detail": "Invalid email or password.",
            "code": "invalid_credentials",
        }
    )
    assert not Device.objects.exists()


@pytest.fixture
def inactive():
    user = UserFactory()
    user.is_active = False
    user.save()
    return user


def test_a_deactivated_user_with_the_right_password_is_told_so(api_client, inactive, password):
    r = api_client.post(LOGIN, {"email": inactive.email, "password": password})

    assert r.status_code == 403
    assert r.json() == {"detail": "This account is deactivated.", "code": "account_inactive"}
    assert not Device.objects.exists()

    korean = api_client.post(LOGIN, {"email": inactive.email, "password": password}, HTTP_ACCEPT_LANGUAGE="ko")
    assert korean.status_code == 403
    assert korean.json() == {"detail": "비활성화된 계정입니다.", "code": "account_inactive"}


def test_a_deactivated_user_with_a_wrong_password_gets_the_usual_answer(api_client, inactive):
    # Nothing tells a guesser that the account exists, let alone that it is deactivated.
    r = api_client.post(LOGIN, {"email": inactive.email, "password": "Not-the-password-1"})
    unknown = api_client.post(LOGIN, {"email": "nobody@example.com", "password": "Not-the-password-1"})

    assert r.status_code == unknown.status_code == 401
    assert r.json() == unknown.json() == {"detail": "Invalid email or password.", "code": "invalid_credentials"}
    assert not Device.objects.exists()


def test_the_deactivated_answer_does_not_outlive_its_request(api_client, inactive, user, password):
    # The mark lives on the request only: the next sign-in, of another account, is not refused.
    api_client.post(LOGIN, {"email": inactive.email, "password": password})
    r = api_client.post(LOGIN, {"email": user.email, "password": "Not-the-password-1"})
    assert r.json()["code"] == "invalid_credentials"
    assert api_client.post(LOGIN, {"email": user.email, "password": password}).status_code == 200


def test_social_only_user_cannot_log_in_with_a_password(api_client):
    UserFactory(email="social@example.com", password=None)

    r = api_client.post(LOGIN, {"email": "social@example.com", "password": ""})
    assert r.status_code == 400
    r = api_client.post(LOGIN, {"email": "social@example.com", "password": "Anything-1"})
    assert r.status_code == 401


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"password": "x"}, "email"),
        ({"email": "alice@example.com"}, "password"),
        ({"email": "alice@example.com", "password": "x", "device_id": "has spaces"}, "device_id"),
        ({"email": "alice@example.com", "password": "x", "device_id": "d" * 129}, "device_id"),
        ({"email": "alice@example.com", "password": "x", "device_name": "n" * 129}, "device_name"),
        ({"email": "e" * 255, "password": "x"}, "email"),
        ({"email": {"a": 1}, "password": "x"}, "email"),
    ],
)
def test_malformed_login_names_the_field(api_client, user, payload, field):
    r = api_client.post(LOGIN, payload, format="json")

    assert r.status_code == 400, r.content
    assert field in r.json()


@pytest.mark.parametrize("body", ["{oops", "[]", '"text"', "42", "null"])
def test_garbage_login_body_is_400(api_client, body):
    r = api_client.generic("POST", LOGIN, body, content_type="application/json")
    assert r.status_code == 400, r.content


@pytest.mark.parametrize("field", ["email", "password", "device_id", "device_name"])
def test_nul_characters_are_400_not_500(api_client, user, password, field):
    payload = {"email": user.email, "password": password, "device_id": "d1", "device_name": "n"}
    payload[field] += "\x00"

    r = api_client.post(LOGIN, payload, format="json")

    assert r.status_code == 400, r.content
    assert field in r.json()


def test_register_with_nul_characters_is_400(api_client, password):
    r = api_client.post("/api/v1/auth/register", {"email": "x@example.com", "password": password + "\x00"})
    assert r.status_code == 400
    assert "password" in r.json()


def test_authorizing_in_swagger_again_renews_one_session_instead_of_adding_devices(api_client, user, password):
    from accounts.models import Device

    form = f"grant_type=password&username={user.email}&password={password}"
    for _ in range(3):
        r = api_client.generic("POST", LOGIN, form, content_type="application/x-www-form-urlencoded")
        assert r.status_code == 200, r.content

    devices = Device.objects.filter(user=user, revoked_at__isnull=True)
    assert [d.device_id for d in devices] == ["api-docs"]
    assert r.json()["device"]["device_id"] == "api-docs"


def test_every_sign_in_sets_last_login_without_an_audit_entry(api_client, user, password):
    from auditlog.models import LogEntry

    assert user.last_login is None
    response = api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": password, "device_id": "d1"}, format="json"
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.last_login is not None
    assert not LogEntry.objects.filter(object_pk=str(user.pk), changes__icontains="last_login").exists()
