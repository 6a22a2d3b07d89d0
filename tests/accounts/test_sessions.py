"""Logout, the device list, revoking a device, password change, and what authentication costs."""

import uuid

import pytest
from rest_framework.test import APIClient

from accounts import services
from accounts.models import Device

pytestmark = pytest.mark.django_db

LOGOUT = "/api/v1/auth/logout"
DEVICES = "/api/v1/auth/devices"
PASSWORD = "/api/v1/auth/password/change"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/user"


def can_use(client) -> bool:
    return client.get(ME).status_code == 200


def can_refresh(client) -> bool:
    return APIClient().post(REFRESH, {"refresh": client.session_tokens.refresh}).status_code == 200


# --- logout ---------------------------------------------------------------------------------


def test_logout_signs_out_this_device_only(auth_client, user, outsider):
    phone, laptop = auth_client(user, "phone"), auth_client(user, "laptop")
    stranger = auth_client(outsider, "phone")

    assert phone.post(LOGOUT).status_code == 204

    assert not can_use(phone) and not can_refresh(phone)
    assert can_use(laptop) and can_refresh(laptop)
    assert can_use(stranger)


def test_logout_all_signs_out_every_device_of_the_user_only(auth_client, user, outsider):
    phone, laptop = auth_client(user, "phone"), auth_client(user, "laptop")
    stranger = auth_client(outsider, "phone")

    assert phone.post(LOGOUT, {"all": True}).status_code == 204

    assert not can_use(phone) and not can_refresh(phone)
    assert not can_use(laptop) and not can_refresh(laptop)
    assert can_use(stranger) and can_refresh(stranger)


def test_logout_with_malformed_all_is_400(user_client):
    r = user_client.post(LOGOUT, {"all": "perhaps"})
    assert r.status_code == 400
    assert "all" in r.json()
    assert can_use(user_client)


def test_logout_unauthenticated_is_401(api_client):
    assert api_client.post(LOGOUT).status_code == 401


# --- devices --------------------------------------------------------------------------------


def test_device_list_shows_only_my_live_devices_and_flags_the_current_one(auth_client, user, outsider):
    phone = auth_client(user, "phone")
    laptop = auth_client(user, "laptop")
    gone = auth_client(user, "old-tablet")
    services.device_revoke(device=gone.device)
    auth_client(outsider, "phone")

    r = phone.get(DEVICES)

    assert r.status_code == 200
    rows = r.json()["results"]
    assert r.json()["count"] == 2
    assert {row["device_id"]: row["current"] for row in rows} == {"phone": True, "laptop": False}
    assert {row["id"] for row in rows} == {str(phone.device.pk), str(laptop.device.pk)}
    assert set(rows[0]) == {
        "id",
        "device_id",
        "login_type",
        "name",
        "user_agent",
        "ip",
        "created_at",
        "last_seen_at",
        "current",
    }


def test_delete_my_other_device_signs_it_out(auth_client, user):
    phone, laptop = auth_client(user, "phone"), auth_client(user, "laptop")

    assert phone.delete(f"{DEVICES}/{laptop.device.pk}").status_code == 204

    assert not can_use(laptop) and not can_refresh(laptop)
    assert can_use(phone)
    assert [row["device_id"] for row in phone.get(DEVICES).json()["results"]] == ["phone"]
    # Already revoked: gone from the list, so 404.
    assert phone.delete(f"{DEVICES}/{laptop.device.pk}").status_code == 404


def test_delete_another_users_device_is_404_and_leaves_it_alone(auth_client, user, outsider):
    mine = auth_client(user, "phone")
    theirs = auth_client(outsider, "phone")

    r = mine.delete(f"{DEVICES}/{theirs.device.pk}")

    assert r.status_code == 404
    assert can_use(theirs)
    assert Device.objects.get(pk=theirs.device.pk).revoked_at is None


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", str(uuid.uuid4())])
def test_delete_malformed_or_unknown_device_id_is_404(user_client, bad_id):
    assert user_client.delete(f"{DEVICES}/{bad_id}").status_code == 404


def test_devices_unauthenticated_is_401(api_client, user_client):
    assert api_client.get(DEVICES).status_code == 401
    assert api_client.delete(f"{DEVICES}/{user_client.device.pk}").status_code == 401
    assert can_use(user_client)


# --- password change ------------------------------------------------------------------------


def test_password_change_keeps_this_device_and_signs_out_the_others(auth_client, user, password, api_client):
    phone, laptop = auth_client(user, "phone"), auth_client(user, "laptop")
    new_password = "Brand-New-Secret-42"

    r = phone.post(PASSWORD, {"old_password": password, "new_password": new_password})

    assert r.status_code == 204, r.content
    assert can_use(phone) and can_refresh(phone)
    assert not can_use(laptop) and not can_refresh(laptop)
    user.refresh_from_db()
    assert user.check_password(new_password)
    login = {"email": user.email, "password": new_password}
    assert api_client.post("/api/v1/auth/login", login).status_code == 200
    assert api_client.post("/api/v1/auth/login", {**login, "password": password}).status_code == 401


def test_password_change_with_wrong_old_password_is_400(auth_client, user, password):
    phone, laptop = auth_client(user, "phone"), auth_client(user, "laptop")

    r = phone.post(PASSWORD, {"old_password": "Not-My-Password-1", "new_password": "Brand-New-Secret-42"})

    assert r.status_code == 400
    assert "old_password" in r.json()
    user.refresh_from_db()
    assert user.check_password(password)
    assert can_use(laptop)


@pytest.mark.parametrize("weak", ["short1A", "alllowercase99", "Password1", "NoDigitsAtAll"])
def test_password_change_to_a_weak_password_is_400(user_client, user, password, weak):
    r = user_client.post(PASSWORD, {"old_password": password, "new_password": weak})

    assert r.status_code == 400
    assert "new_password" in r.json()
    user.refresh_from_db()
    assert user.check_password(password)


@pytest.mark.parametrize(
    "payload, field",
    [({"new_password": "Brand-New-Secret-42"}, "old_password"), ({"old_password": "x"}, "new_password")],
)
def test_password_change_missing_field_is_400(user_client, payload, field):
    r = user_client.post(PASSWORD, payload)
    assert r.status_code == 400
    assert field in r.json()


def test_password_change_unauthenticated_is_401(api_client, password):
    r = api_client.post(PASSWORD, {"old_password": password, "new_password": "Brand-New-Secret-42"})
    assert r.status_code == 401


# --- query counts ---------------------------------------------------------------------------


def test_authentication_costs_exactly_one_query(user_client, django_assert_num_queries):
    # The device, its user and the user's active flag in one joined SELECT; /user needs no more.
    with django_assert_num_queries(1):
        assert user_client.get(ME).status_code == 200


def test_rejected_token_costs_at_most_one_query(user_client, django_assert_max_num_queries):
    services.device_revoke(device=user_client.device)
    with django_assert_max_num_queries(1):
        assert user_client.get(ME).status_code == 401


def _device_list_queries(client, django_assert_num_queries, expected_rows):
    # 1 authentication (device + user), 1 COUNT for the page, 1 SELECT of the page.
    with django_assert_num_queries(3):
        r = client.get(DEVICES)
    assert r.status_code == 200
    assert r.json()["count"] == expected_rows


def test_device_list_costs_the_same_for_1_and_100_devices(auth_client, user, django_assert_num_queries):
    client = auth_client(user, "device-0")
    _device_list_queries(client, django_assert_num_queries, 1)

    Device.objects.bulk_create(Device(user=user, device_id=f"device-{n}") for n in range(1, 100))

    _device_list_queries(client, django_assert_num_queries, 100)
