"""Brute-force limits: login attempts per IP, failed passwords per account and IP (the lockout of
accounts/lockout.py, tested fully in test_brute_force.py), registration per IP, 429 with Retry-After."""

from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"


@pytest.fixture
def rates(settings):
    """``rates(login_ip="2/min")``: replace some rates for this test (a copy, never in place)."""

    def set_rates(**overrides):
        rest = dict(settings.REST_FRAMEWORK)
        rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], **overrides}
        settings.REST_FRAMEWORK = rest

    return set_rates


def from_ip(ip: str) -> APIClient:
    return APIClient(REMOTE_ADDR=ip)


def assert_throttled(response):
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"


def assert_locked_out(response):
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "too_many_failed_logins"


def test_login_is_limited_per_ip(rates, user, password):
    rates(login_ip="3/min")
    attacker = from_ip("203.0.113.7")
    for n in range(3):
        r = attacker.post(LOGIN, {"email": f"victim{n}@example.com", "password": "Guess-1234"})
        assert r.status_code == 401

    assert_throttled(attacker.post(LOGIN, {"email": "another@example.com", "password": "Guess-1234"}))
    # Even the right password from that IP waits; another IP is not affected.
    assert_throttled(attacker.post(LOGIN, {"email": user.email, "password": password}))
    assert from_ip("198.51.100.1").post(LOGIN, {"email": user.email, "password": password}).status_code == 200


def test_failed_passwords_are_limited_per_email_and_ip_not_per_email(user, password):
    # Guesses at one email from many addresses no longer lock its owner out (below the account's
    # cap of 100 consecutive failures): only failures count, per account and address.
    for n in range(9):
        for ip in (f"203.0.113.{n + 1}", "203.0.113.50"):
            assert from_ip(ip).post(LOGIN, {"email": user.email, "password": "Guess-1234"}).status_code == 401
    assert from_ip("198.51.100.1").post(LOGIN, {"email": user.email, "password": password}).status_code == 200

    # Case and spacing do not make a new count, and the form's username counts as the email: the
    # 10th failure from 203.0.113.50 locks that account from that address.
    attacker = from_ip("203.0.113.50")
    form = urlencode({"username": user.email.upper(), "password": "x"})  # Swagger's login form
    assert_locked_out(attacker.post(LOGIN, form, content_type="application/x-www-form-urlencoded"))
    assert_locked_out(attacker.post(LOGIN, {"email": f" {user.email.upper()} ", "password": password}))
    # Another account is not affected.
    other = attacker.post(LOGIN, {"email": "someone@example.com", "password": "Guess-1234"})
    assert other.status_code == 401


def test_lockout_does_not_reveal_whether_the_account_exists(rates, user):
    rates(login_ip="100/min")
    for email in (user.email, "nobody@example.com"):
        for _ in range(9):
            assert from_ip("203.0.113.9").post(LOGIN, {"email": email, "password": "Guess-1234"}).status_code == 401

    known = from_ip("203.0.113.9").post(LOGIN, {"email": user.email, "password": "Guess-1234"})
    unknown = from_ip("203.0.113.9").post(LOGIN, {"email": "nobody@example.com", "password": "Guess-1234"})

    assert known.status_code == unknown.status_code == 429
    assert known.json() == unknown.json()
    assert known["Retry-After"] == unknown["Retry-After"]


def test_registration_is_limited_per_ip(rates, password):
    rates(register_ip="2/hour")
    client = from_ip("203.0.113.20")
    for n in range(2):
        assert client.post(REGISTER, {"email": f"new{n}@example.com", "password": password}).status_code == 202

    r = client.post(REGISTER, {"email": "new9@example.com", "password": password})

    assert_throttled(r)
    assert int(r["Retry-After"]) > 60  # an hourly window
    other_ip = from_ip("203.0.113.21").post(REGISTER, {"email": "new9@example.com", "password": password})
    assert other_ip.status_code == 202


def test_failed_registrations_count_too(rates):
    rates(register_ip="2/hour")
    client = from_ip("203.0.113.30")
    for _ in range(2):
        assert client.post(REGISTER, {"email": "bad"}).status_code == 400

    assert_throttled(client.post(REGISTER, {"email": "ok@example.com", "password": "Correct-Horse-9"}))


def test_refresh_is_limited_per_ip(rates):
    rates(refresh="2/min")
    client = from_ip("203.0.113.40")
    for _ in range(2):
        assert client.post("/api/v1/auth/refresh", {"refresh": "not-a-token"}).status_code == 401

    assert_throttled(client.post("/api/v1/auth/refresh", {"refresh": "not-a-token"}))


def test_password_change_is_limited_per_user_and_ip(auth_client, user, password):
    phone, laptop = auth_client(user, "phone"), auth_client(user, "laptop")
    attempt = {"old_password": "Guess-Guess-1", "new_password": "Brand-New-Secret-42"}
    for _ in range(9):
        assert phone.post("/api/v1/auth/password/change", attempt, REMOTE_ADDR="203.0.113.60").status_code == 400

    # Another device of the same user shares the count: a stolen session cannot guess on.
    assert_locked_out(laptop.post("/api/v1/auth/password/change", attempt, REMOTE_ADDR="203.0.113.60"))
    # The owner's right password from another address still works.
    right = {"old_password": password, "new_password": "Brand-New-Secret-42"}
    assert laptop.post("/api/v1/auth/password/change", right, REMOTE_ADDR="198.51.100.1").status_code == 204
