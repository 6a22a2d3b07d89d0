"""One device-id rule (accounts.validators), the same at every entry point that takes one.

The social entry points (redirect start, token flow, code exchange) are in test_social.py.
"""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import Device
from accounts.validators import DEVICE_ID_MAX_LENGTH, DEVICE_ID_RULE, clean_device_id

GOOD = ["phone-1", "a.b:c_d-9", "X" * DEVICE_ID_MAX_LENGTH, "0", "api-docs"]
BAD = [
    "has spaces",
    "t\u00e9l\u00e9phone",  # a letter, but not ASCII
    "\u7535\u8bdd",
    "\uff41",  # fullwidth 'a'
    "d" * (DEVICE_ID_MAX_LENGTH + 1),
    "phone\n1",
    "phone/1",
    "phone\x00",
    "<script>",
]


@pytest.mark.parametrize("value", GOOD)
def test_rule_accepts_ascii_letters_digits_and_dot_underscore_colon_dash(value):
    assert clean_device_id(value) == value


@pytest.mark.parametrize("value", BAD)
def test_rule_refuses_anything_else_naming_the_field(value):
    with pytest.raises(ValidationError) as raised:
        clean_device_id(value)
    assert raised.value.message_dict == {"device_id": [DEVICE_ID_RULE]}
    assert raised.value.error_dict["device_id"][0].code == "device_id_invalid"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_absent_or_blank_means_none(value):
    assert clean_device_id(value) is None


def test_surrounding_whitespace_is_trimmed_as_json_fields_are():
    assert clean_device_id("  laptop ") == "laptop"


def test_a_value_that_is_not_text_is_refused():
    with pytest.raises(ValidationError):
        clean_device_id(["phone"])


def test_generated_ids_satisfy_the_rule(db, user):
    from accounts import services

    issued = services.session_start(user=user)
    assert clean_device_id(issued.device.device_id) == issued.device.device_id


# --- POST /api/v1/auth/login --------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD)
def test_password_login_refuses_a_malformed_device_id(db, api_client, user, password, value):
    r = api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": password, "device_id": value}, format="json"
    )
    assert r.status_code == 400, r.content
    assert "device_id" in r.json()
    assert not Device.objects.exists()


@pytest.mark.parametrize("value", GOOD)
def test_password_login_accepts_a_well_formed_device_id(db, api_client, user, password, value):
    r = api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": password, "device_id": value}, format="json"
    )
    assert r.status_code == 200, r.content
    assert r.json()["device"]["device_id"] == value


@pytest.mark.django_db  # the document lists the enabled models and plans
def test_the_openapi_document_states_the_rule():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for name in ("LoginRequest", "SocialExchangeRequest"):
        field = schema["components"]["schemas"][name]["properties"]["device_id"]
        non_blank = field["oneOf"][0]  # or "" (blank: generate one)
        assert non_blank["pattern"] == "^[A-Za-z0-9._:-]{1,128}$"
        assert non_blank["maxLength"] == DEVICE_ID_MAX_LENGTH


# --- allauth's app endpoints (X-Device-ID) ------------------------------------------------------


def test_allauth_password_login_refuses_a_malformed_device_id_before_signing_in(db, user, password):
    r = Client().post(
        "/_allauth/app/v1/auth/login",
        {"email": user.email, "password": password},
        content_type="application/json",
        HTTP_X_DEVICE_ID="t\u00e9l\u00e9phone",
    )
    assert r.status_code == 400, r.content
    assert r.json()["errors"] == [{"message": DEVICE_ID_RULE, "code": "device_id_invalid", "param": "device_id"}]
    user.refresh_from_db()
    assert user.last_login is None  # refused before the login ran, not after
    assert not Device.objects.exists()


def test_allauth_signup_refuses_a_malformed_device_id_before_creating_the_user(db):
    from accounts.models import User

    r = Client().post(
        "/_allauth/app/v1/auth/signup",
        {"email": "new@example.com", "password": "Str0ng-Passw0rd"},
        content_type="application/json",
        HTTP_X_DEVICE_ID="has spaces",
    )
    assert r.status_code == 400, r.content
    assert r.json()["errors"][0]["param"] == "device_id"
    assert not User.objects.filter(email="new@example.com").exists()
