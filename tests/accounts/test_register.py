import pytest

from accounts.api.views import REGISTERED
from accounts.models import User, UserSettings

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/register"


def test_register_creates_user_with_normalised_email_and_free_plan(api_client, password):
    r = api_client.post(URL, {"email": "  New.Person@Example.COM ", "password": password, "display_name": "New"})

    assert r.status_code == 202, r.content
    assert r.json() == {"detail": REGISTERED}  # says nothing of the account: the same for a taken email
    user = User.objects.get(email="new.person@example.com")
    assert user.display_name == "New"
    assert user.check_password(password)
    assert UserSettings.objects.get(user=user).plan.slug == "free"


def test_register_then_login(api_client, password):
    api_client.post(URL, {"email": "bob@example.com", "password": password})
    r = api_client.post("/api/v1/auth/login", {"email": "BOB@example.com", "password": password})
    assert r.status_code == 200, r.content


def test_email_is_unique_case_insensitively_and_a_taken_one_is_not_told(api_client, user, password, mailoutbox):
    r = api_client.post(URL, {"email": user.email.upper(), "password": "Another-Pass-7", "display_name": "X"})

    assert r.status_code == 202
    assert r.json() == {"detail": REGISTERED}
    assert User.objects.filter(email__iexact=user.email).count() == 1
    user.refresh_from_db()
    assert user.check_password(password) and user.display_name == "Alice"  # untouched
    assert [m.to for m in mailoutbox] == [[user.email]]  # its owner hears of it
    assert "http://testserver/" in mailoutbox[0].body


def test_no_notice_for_a_deactivated_account(api_client, user, mailoutbox):
    user.is_active = False
    user.save()
    r = api_client.post(URL, {"email": user.email, "password": "Another-Pass-7"})
    assert r.status_code == 202
    assert mailoutbox == []


@pytest.mark.parametrize(
    "bad_password, expected_message",
    [
        ("Ab1-xyz", "too short"),
        ("NoDigitsHere!", "digit"),
        ("lowercase-only-9", "upper-case"),
        ("Password1", "too common"),
        ("Jonathansmith1", "too similar"),
        ("12345678", "entirely numeric"),
    ],
)
def test_password_policy(api_client, bad_password, expected_message):
    r = api_client.post(URL, {"email": "jonathansmith@example.com", "password": bad_password})

    assert r.status_code == 400
    messages = " ".join(r.json()["password"])
    assert expected_message in messages
    assert not User.objects.filter(email="jonathansmith@example.com").exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"password": "Correct-Horse-9"}, "email"),
        ({"email": "x@example.com"}, "password"),
        ({"email": "not-an-email", "password": "Correct-Horse-9"}, "email"),
        ({"email": "", "password": "Correct-Horse-9"}, "email"),
        ({"email": "x@example.com", "password": ""}, "password"),
        ({"email": ["x@example.com"], "password": "Correct-Horse-9"}, "email"),
        ({"email": "a" * 250 + "@example.com", "password": "Correct-Horse-9"}, "email"),
        ({"email": "x@example.com", "password": "Aa1" + "x" * 200}, "password"),
        ({"email": "x@example.com", "password": "Correct-Horse-9", "display_name": "d" * 151}, "display_name"),
    ],
)
def test_missing_or_malformed_fields_name_the_field(api_client, payload, field):
    r = api_client.post(URL, payload, format="json")

    assert r.status_code == 400
    assert field in r.json()


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('"just a string"', "application/json"),
        ("null", "application/json"),
    ],
)
def test_garbage_body_is_400_not_500(api_client, body, content_type):
    r = api_client.generic("POST", URL, body, content_type=content_type)

    assert r.status_code == 400, r.content


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"\x00\xff garbage", "application/octet-stream"),
        (b"email=%ZZ&password", "application/x-www-form-urlencoded"),  # JSON only, as the schema says
    ],
)
def test_body_of_another_media_type_is_415(api_client, body, content_type):
    r = api_client.generic("POST", URL, body, content_type=content_type)
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_media_type"


def test_unsupported_media_type_is_415(api_client):
    r = api_client.generic("POST", URL, "email=x", content_type="text/plain")
    assert r.status_code == 415


def test_register_ignores_privilege_fields(api_client, password):
    r = api_client.post(
        URL,
        {"email": "sneaky@example.com", "password": password, "is_staff": True, "is_superuser": True, "id": 1},
    )

    assert r.status_code == 202
    sneaky = User.objects.get(email="sneaky@example.com")
    assert not sneaky.is_staff and not sneaky.is_superuser
