"""Refresh rotation, reuse detection and every token attack we defend against."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts import services
from accounts.models import Device
from tests.accounts import jwt_forge

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/user"


def login(user, password, device_id):
    r = APIClient().post(LOGIN, {"email": user.email, "password": password, "device_id": device_id})
    assert r.status_code == 200, r.content
    return r.json()


def me_status(access: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(ME).status_code


def refresh(token: str):
    return APIClient().post(REFRESH, {"refresh": token})


def claims(token):
    return jwt_forge.claims_of(token)


# --- rotation and reuse ---------------------------------------------------------------------


def test_refresh_rotates_and_blacklists_the_old_token(user, password):
    pair = login(user, password, "phone")

    r = refresh(pair["refresh"])

    assert r.status_code == 200, r.content
    new = r.json()
    assert set(new) == {"access", "refresh", "token_type", "expires_in"}
    assert new["refresh"] != pair["refresh"]
    assert new["access"] != pair["access"]
    assert claims(new["refresh"])["sid"] == claims(pair["refresh"])["sid"]
    old_jti = claims(pair["refresh"])["jti"]
    assert BlacklistedToken.objects.filter(token__jti=old_jti).exists()
    assert OutstandingToken.objects.filter(jti=claims(new["refresh"])["jti"]).exists()
    assert me_status(new["access"]) == 200
    assert refresh(new["refresh"]).status_code == 200  # the rotated token keeps working


def test_reuse_kills_that_device_family_but_not_other_devices(user, password, reuse_interval_over):
    phone = login(user, password, "phone")
    laptop = login(user, password, "laptop")
    rotated = refresh(phone["refresh"]).json()

    replay = refresh(phone["refresh"])

    assert replay.status_code == 401
    assert replay.json()["code"] == "token_reused"
    # The thief and the owner both lose the phone session: its newest tokens are dead.
    assert me_status(rotated["access"]) == 401
    assert refresh(rotated["refresh"]).status_code == 401
    assert BlacklistedToken.objects.filter(token__jti=claims(rotated["refresh"])["jti"]).exists()
    # The laptop is untouched.
    assert me_status(laptop["access"]) == 200
    assert refresh(laptop["refresh"]).status_code == 200


def test_reuse_after_several_rotations_is_still_detected(user, password, reuse_interval_over):
    pair = login(user, password, "phone")
    first = refresh(pair["refresh"]).json()
    second = refresh(first["refresh"]).json()

    assert refresh(first["refresh"]).json()["code"] == "token_reused"
    assert me_status(second["access"]) == 401


@pytest.mark.parametrize("payload", [{}, {"refresh": ""}, {"refresh": ["x"]}, {"refresh": "x" * 5000}])
def test_refresh_with_missing_or_malformed_field_is_400(api_client, payload):
    r = api_client.post(REFRESH, payload, format="json")
    assert r.status_code == 400
    assert "refresh" in r.json()


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.", "...."])
def test_garbage_refresh_token_is_401(garbage):
    r = refresh(garbage)
    assert r.status_code == 401
    assert r.json()["code"] == "token_not_valid"


# --- wrong token type -----------------------------------------------------------------------


def test_access_token_sent_to_refresh_is_401(user, password):
    pair = login(user, password, "phone")

    r = refresh(pair["access"])

    assert r.status_code == 401
    assert r.json()["code"] == "token_not_valid"
    assert refresh(pair["refresh"]).status_code == 200  # and it did not count as reuse


def test_refresh_token_used_as_bearer_is_401(user, password):
    pair = login(user, password, "phone")
    assert me_status(pair["refresh"]) == 401


# --- forged, tampered, expired --------------------------------------------------------------


def test_alg_none_is_rejected(user, password):
    pair = login(user, password, "phone")

    assert me_status(jwt_forge.unsigned(pair["access"])) == 401
    assert refresh(jwt_forge.unsigned(pair["refresh"])).status_code == 401


def test_tampered_signature_is_rejected(user, password):
    pair = login(user, password, "phone")

    assert me_status(jwt_forge.with_tampered_signature(pair["access"])) == 401
    assert refresh(jwt_forge.with_tampered_signature(pair["refresh"])).status_code == 401


def test_tampered_payload_is_rejected(user, outsider, password):
    pair = login(user, password, "phone")

    assert me_status(jwt_forge.with_tampered_payload(pair["access"], user_id=outsider.pk)) == 401
    far_future = int((timezone.now() + timedelta(days=365)).timestamp())
    assert refresh(jwt_forge.with_tampered_payload(pair["refresh"], exp=far_future)).status_code == 401


def test_token_signed_with_another_key_is_rejected(user, password):
    pair = login(user, password, "phone")
    other_key = "another-signing-key-of-a-different-deployment-0123456789"

    assert me_status(jwt_forge.resign(pair["access"], key=other_key)) == 401
    assert refresh(jwt_forge.resign(pair["refresh"], key=other_key)).status_code == 401


def test_expired_tokens_are_rejected(user, password):
    pair = login(user, password, "phone")
    past = int((timezone.now() - timedelta(seconds=1)).timestamp())

    # Sanity check of the forge: re-signing without changes yields a working token.
    assert me_status(jwt_forge.resign(pair["access"])) == 200
    assert me_status(jwt_forge.resign(pair["access"], exp=past)) == 401
    r = refresh(jwt_forge.resign(pair["refresh"], exp=past))
    assert r.status_code == 401
    assert r.json()["code"] == "token_not_valid"


def test_tokens_built_by_simplejwt_with_a_past_expiry_are_rejected(user, password):
    pair = login(user, password, "phone")
    access = AccessToken(pair["access"], verify=False)
    access.set_exp(from_time=timezone.now() - timedelta(hours=1))
    old_refresh = RefreshToken(pair["refresh"], verify=False)
    old_refresh.set_exp(from_time=timezone.now() - timedelta(days=30))

    assert me_status(str(access)) == 401
    assert refresh(str(old_refresh)).status_code == 401
    # The same construction with a current expiry is accepted, so the expiry is what failed.
    access.set_exp()
    assert me_status(str(access)) == 200


@pytest.mark.parametrize(
    "claim, value",
    [("aud", "another-api"), ("iss", "someone-else"), ("aud", None), ("iss", None)],
)
def test_wrong_or_missing_audience_or_issuer_is_rejected(user, password, claim, value):
    pair = login(user, password, "phone")

    assert me_status(jwt_forge.resign(pair["access"], **{claim: value})) == 401
    assert refresh(jwt_forge.resign(pair["refresh"], **{claim: value})).status_code == 401


@pytest.mark.parametrize("claim", ["sid", "fam", "user_id", "jti"])
def test_token_missing_a_session_claim_is_rejected(user, password, claim):
    pair = login(user, password, "phone")

    r = refresh(jwt_forge.resign(pair["refresh"], **{claim: None}))
    assert r.status_code == 401
    if claim != "jti":  # access tokens are not looked up by jti
        assert me_status(jwt_forge.resign(pair["access"], **{claim: None})) == 401


def test_token_moved_to_another_users_session_is_rejected(user, outsider, password):
    mine = login(user, password, "phone")
    theirs = login(outsider, password, "phone")

    # A validly signed token whose session id points at someone else's device.
    assert me_status(jwt_forge.resign(mine["access"], sid=claims(theirs["access"])["sid"])) == 401
    assert refresh(jwt_forge.resign(mine["refresh"], sid=claims(theirs["refresh"])["sid"])).status_code == 401
    assert me_status(jwt_forge.resign(mine["access"], sid="not-a-uuid")) == 401
    assert refresh(jwt_forge.resign(mine["refresh"], sid="not-a-uuid")).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Token abc", "Basic YWxpY2U6cHc=", "Bearer \x00"],
)
def test_malformed_authorization_header_is_401(user, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get(ME).status_code == 401


# --- dead sessions --------------------------------------------------------------------------


def test_token_of_a_deactivated_user_is_rejected_at_once(user, password):
    pair = login(user, password, "phone")
    assert me_status(pair["access"]) == 200

    user.is_active = False
    user.save(update_fields=["is_active"])

    assert me_status(pair["access"]) == 401
    assert refresh(pair["refresh"]).status_code == 401


def test_revoked_device_is_rejected_at_once(user, password):
    phone = login(user, password, "phone")
    laptop = login(user, password, "laptop")

    services.device_revoke(device=Device.objects.get(pk=phone["device"]["id"]))

    assert me_status(phone["access"]) == 401
    r = refresh(phone["refresh"])
    assert r.status_code == 401
    assert r.json()["code"] == "token_not_valid"
    assert me_status(laptop["access"]) == 200


def test_deleted_user_tokens_are_rejected(user, password):
    pair = login(user, password, "phone")
    user.delete()

    assert me_status(pair["access"]) == 401
    assert refresh(pair["refresh"]).status_code == 401


def test_unauthenticated_is_401_with_a_bearer_challenge(api_client):
    r = api_client.get(ME)
    assert r.status_code == 401
    assert r["WWW-Authenticate"].startswith("Bearer")


def test_a_replay_within_the_reuse_interval_gets_the_same_new_pair(user, password, settings):
    settings.JWT_REFRESH_REUSE_SECONDS = 10
    first = login(user, password, "racing-tabs")
    rotated = refresh(first["refresh"])
    assert rotated.status_code == 200

    again = refresh(first["refresh"])

    assert again.status_code == 200
    assert (again.json()["access"], again.json()["refresh"]) == (rotated.json()["access"], rotated.json()["refresh"])
    # The session lives on, and the new refresh token rotates as usual.
    assert refresh(rotated.json()["refresh"]).status_code == 200
