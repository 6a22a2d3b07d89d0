"""Brute-force protection on every password path (accounts/lockout.py, django-axes).

At most 10 failed passwords per account and address and 50 per address within 15 minutes, and
100 per account within 60 minutes since its last sign-in (NIST SP 800-63B 5.2.2), except from an
address the account signed in from lately; only failures count, every lock ends by itself
(Retry-After), and the owner's right password from an address that has not failed still works
below the account's cap. Large counts are seeded as axes' own rows (fast); the failure crossing a
limit is a real request.
"""

from datetime import timedelta

import httpx
import pytest
from allauth.account.signals import password_reset
from axes.models import AccessAttempt, AccessFailureLog
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.lockout import username_key
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
ADMIN_LOGIN = "/admin/login/"
ALLAUTH_LOGIN = "/_allauth/app/v1/auth/login"
ALLAUTH_REAUTH = "/_allauth/app/v1/auth/reauthenticate"
ALLAUTH_PASSWORD_CHANGE = "/_allauth/app/v1/account/password/change"
PASSWORD_CHANGE = "/api/v1/auth/password/change"
WRONG = "Wrong-Guess-1"
ATTACKER = "203.0.113.7"
OWNER = "198.51.100.1"
CODE = "too_many_failed_logins"


def from_ip(ip: str) -> APIClient:
    return APIClient(REMOTE_ADDR=ip)


def login(ip: str, email: str, password: str):
    return from_ip(ip).post(LOGIN, {"email": email, "password": password})


def assert_locked(response, *, account: bool = False):
    """A 429 of the sign-in limits: the pair's or address's (15 minutes at most) or the account's
    (60 minutes at most, and it says a password reset lifts it)."""
    assert response.status_code == 429, response.content
    assert response.json()["code"] == CODE
    assert response.json()["detail"]
    assert 0 < int(response["Retry-After"]) <= (60 if account else 15) * 60
    assert ("reset your password" in response.json()["detail"]) == account


def seed_attempts(*, username: str | None, ip: str, failures: int, ago: timedelta = timedelta(seconds=5)):
    """One axes attempt row, as axes writes it after ``failures`` failures, the last ``ago`` ago."""
    attempt = AccessAttempt.objects.create(
        username=username, ip_address=ip, user_agent="seed", failures_since_start=failures, path_info=LOGIN
    )
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=timezone.now() - ago)


def seed_failure_log(*, username: str, failures: int, ago: timedelta = timedelta(minutes=1), ips: int = 20):
    """``failures`` entries of axes' failure log for ``username``, spread over ``ips`` addresses."""
    rows = [
        AccessFailureLog(username=username, ip_address=f"192.0.2.{n % ips + 1}", user_agent="seed", path_info=LOGIN)
        for n in range(failures)
    ]
    created = AccessFailureLog.objects.bulk_create(rows)
    AccessFailureLog.objects.filter(pk__in=[row.pk for row in created]).update(attempt_time=timezone.now() - ago)


def signed_in_from(ip: str, user, password: str) -> None:
    """The owner signs in from ``ip`` (a device there), some minutes before what follows."""
    assert login(ip, user.email, password).status_code == 200
    type(user).objects.filter(pk=user.pk).update(last_login=timezone.now() - timedelta(minutes=5))


# --- per account and address ----------------------------------------------------------------


def test_ten_failures_lock_that_account_from_that_address_only(user, outsider, password):
    for _ in range(9):
        assert login(ATTACKER, user.email, WRONG).status_code == 401
    # The failure reaching the limit is answered with the lockout already.
    assert_locked(login(ATTACKER, user.email, WRONG))

    # Even the right password waits, from that address.
    refused = login(ATTACKER, user.email, password)
    assert_locked(refused)
    assert 890 <= int(refused["Retry-After"]) <= 900
    # The owner elsewhere is not locked out by someone else's failures.
    assert login(OWNER, user.email, password).status_code == 200
    # Nor is another account from the attacker's address (10 failures < 50 for the address).
    assert login(ATTACKER, outsider.email, password).status_code == 200


def test_the_error_body_is_detail_and_code(user):
    for _ in range(10):
        login(ATTACKER, user.email, WRONG)

    r = login(ATTACKER, user.email, WRONG)

    assert r.status_code == 429
    assert r["Content-Type"] == "application/json"
    assert r.json() == {"detail": "Too many failed sign-in attempts. Try again in 15 minutes.", "code": CODE}


def test_unknown_email_and_wrong_password_answer_alike_when_locked(user):
    known, unknown = [], []
    for _ in range(11):
        known.append(login(ATTACKER, user.email, WRONG))
        unknown.append(login(OWNER, "nobody@example.com", WRONG))

    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401] * 9 + [429] * 2
    assert [r.json() for r in known] == [r.json() for r in unknown]
    assert known[-1]["Retry-After"] == unknown[-1]["Retry-After"]


def test_case_spacing_and_swagger_form_share_one_count(user, password):
    for _ in range(5):
        assert login(ATTACKER, f" {user.email.upper()} ", WRONG).status_code == 401
    form = f"grant_type=password&username={user.email}&password={WRONG}"
    for _ in range(4):
        r = from_ip(ATTACKER).generic("POST", LOGIN, form, content_type="application/x-www-form-urlencoded")
        assert r.status_code == 401
    r = from_ip(ATTACKER).generic("POST", LOGIN, form, content_type="application/x-www-form-urlencoded")

    assert_locked(r)


def test_the_lockout_ends_with_the_window(user, password):
    for _ in range(10):
        login(ATTACKER, user.email, WRONG)
    assert_locked(login(ATTACKER, user.email, password))

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))

    assert login(ATTACKER, user.email, password).status_code == 200


def test_failures_further_apart_than_the_window_do_not_add_up(user, password):
    seed_attempts(username=user.email, ip=ATTACKER, failures=9, ago=timedelta(minutes=16))

    # axes restarts the count of a row 15 minutes after its last failure.
    for _ in range(9):
        assert login(ATTACKER, user.email, WRONG).status_code == 401
    assert login(ATTACKER, user.email, password).status_code == 200


def test_attempts_refused_during_a_lockout_neither_count_nor_extend_it(user, password):
    for _ in range(10):
        login(ATTACKER, user.email, WRONG)
    for _ in range(5):
        assert_locked(login(ATTACKER, user.email, WRONG))

    assert AccessAttempt.objects.get().failures_since_start == 10
    assert AccessFailureLog.objects.count() == 10


def test_a_success_forgets_that_accounts_failures_from_that_address(user, password):
    for _ in range(9):
        login(ATTACKER, user.email, WRONG)
    assert login(ATTACKER, user.email, password).status_code == 200

    for _ in range(9):
        assert login(ATTACKER, user.email, WRONG).status_code == 401


def test_forwarded_addresses_count_apart_behind_a_trusted_proxy(settings, user, password):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.1"
    attacker = APIClient(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=ATTACKER)
    for _ in range(10):
        attacker.post(LOGIN, {"email": user.email, "password": WRONG})

    owner = APIClient(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=OWNER)
    assert owner.post(LOGIN, {"email": user.email, "password": password}).status_code == 200
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


# --- per address ----------------------------------------------------------------------------


def test_fifty_failures_from_one_address_lock_that_address(user, password):
    for n in range(49):
        seed_attempts(username=f"victim{n}@example.com", ip=ATTACKER, failures=1)

    assert_locked(login(ATTACKER, "victim-last@example.com", WRONG))  # the 50th failure

    assert_locked(login(ATTACKER, user.email, password))
    assert login(OWNER, user.email, password).status_code == 200


def test_retry_after_is_when_enough_failures_leave_the_window(user, password):
    seed_attempts(username="a@example.com", ip=ATTACKER, failures=30, ago=timedelta(minutes=10))
    seed_attempts(username="b@example.com", ip=ATTACKER, failures=20, ago=timedelta(minutes=1))

    r = login(ATTACKER, user.email, password)

    # 5 minutes from now the 30 older failures are out of the window and 20 < 50 remain.
    assert_locked(r)
    assert 295 <= int(r["Retry-After"]) <= 300


def test_signing_in_to_ones_own_account_does_not_reset_an_address(user, outsider, password):
    for n in range(45):
        seed_attempts(username=f"victim{n}@example.com", ip=ATTACKER, failures=1)
    assert login(ATTACKER, outsider.email, password).status_code == 200  # the attacker's own account

    for _ in range(4):
        assert login(ATTACKER, user.email, WRONG).status_code == 401
    assert_locked(login(ATTACKER, user.email, WRONG))


# --- per account ----------------------------------------------------------------------------


def test_a_hundred_failures_lock_the_account_from_every_address(user, outsider, password):
    seed_failure_log(username=user.email, failures=99)

    assert_locked(login("192.0.2.200", user.email, WRONG), account=True)  # the 100th

    for ip in (OWNER, "192.0.2.201", ATTACKER):
        r = login(ip, user.email, password)
        assert_locked(r, account=True)
        assert 58 * 60 < int(r["Retry-After"]) <= 60 * 60
        assert (
            r.json()["detail"] == "Too many failed sign-in attempts. Try again in 59 minutes, or reset your password."
        )
    # Other accounts are not affected.
    assert login(OWNER, outsider.email, password).status_code == 200


def test_the_account_cap_counts_the_last_hour_and_says_when_it_lifts(user, password):
    seed_failure_log(username=user.email, failures=60, ago=timedelta(minutes=50))
    seed_failure_log(username=user.email, failures=40, ago=timedelta(minutes=5), ips=3)

    r = login(OWNER, user.email, password)
    # 10 minutes from now the 60 older failures are out of the hour and 40 < 100 remain.
    assert_locked(r, account=True)
    assert 595 <= int(r["Retry-After"]) <= 600

    AccessFailureLog.objects.filter(attempt_time__lt=timezone.now() - timedelta(minutes=30)).update(
        attempt_time=timezone.now() - timedelta(minutes=60, seconds=1)
    )
    assert login(OWNER, user.email, password).status_code == 200


def test_failures_older_than_the_hour_do_not_count(user, password):
    seed_failure_log(username=user.email, failures=100, ago=timedelta(minutes=61))

    assert login(OWNER, user.email, password).status_code == 200


def test_the_account_cap_window_is_a_setting(settings, user, password):
    settings.LOGIN_ACCOUNT_LOCK_WINDOW = timedelta(minutes=120)
    seed_failure_log(username=user.email, failures=100, ago=timedelta(minutes=90))

    r = login(OWNER, user.email, password)
    assert_locked(r, account=True)
    assert 29 * 60 < int(r["Retry-After"]) <= 30 * 60


def test_an_address_the_account_signed_in_from_is_not_held_by_the_account_cap(user, password):
    signed_in_from(OWNER, user, password)
    seed_failure_log(username=user.email, failures=100)

    assert_locked(login("192.0.2.200", user.email, password), account=True)
    assert login(OWNER, user.email, password).status_code == 200  # (a sign-in ends the run, too)


def test_a_signed_out_device_still_makes_its_address_known_but_an_old_one_does_not(settings, user, password):
    from accounts.models import Device, User

    signed_in_from(OWNER, user, password)
    Device.objects.update(revoked_at=timezone.now())  # signed out (a password reset does that too)
    seed_failure_log(username=user.email, failures=100)
    assert login(OWNER, user.email, password).status_code == 200

    User.objects.filter(pk=user.pk).update(last_login=timezone.now() - timedelta(minutes=5))
    seed_failure_log(username=user.email, failures=100)
    Device.objects.update(last_seen_at=timezone.now() - timedelta(days=31))
    assert_locked(login(OWNER, user.email, password), account=True)

    settings.LOGIN_KNOWN_ADDRESS_DAYS = 40
    assert login(OWNER, user.email, password).status_code == 200


def test_known_addresses_can_be_switched_off(settings, user, password):
    settings.LOGIN_KNOWN_ADDRESS_DAYS = 0
    signed_in_from(OWNER, user, password)
    seed_failure_log(username=user.email, failures=100)

    assert_locked(login(OWNER, user.email, password), account=True)


def test_an_ipv6_device_makes_its_whole_64_known(user, password):
    signed_in_from("2001:db8:5:6::1", user, password)
    seed_failure_log(username=user.email, failures=100)

    other_64 = APIClient(REMOTE_ADDR="2001:db8:5:7::1")
    assert_locked(other_64.post(LOGIN, {"email": user.email, "password": password}), account=True)
    same_64 = APIClient(REMOTE_ADDR="2001:db8:5:6:aaaa::2")
    assert same_64.post(LOGIN, {"email": user.email, "password": password}).status_code == 200


def test_a_success_resets_the_consecutive_count(user, password):
    seed_failure_log(username=user.email, failures=99)
    assert login(OWNER, user.email, password).status_code == 200

    assert login("192.0.2.200", user.email, WRONG).status_code == 401
    assert login("192.0.2.201", user.email, password).status_code == 200


def test_below_the_cap_the_owners_right_password_works(user, password):
    seed_failure_log(username=user.email, failures=98)

    assert login("192.0.2.200", user.email, WRONG).status_code == 401  # the 99th
    assert login(OWNER, user.email, password).status_code == 200


def test_unknown_emails_reach_the_cap_like_accounts(user):
    seed_failure_log(username=user.email, failures=99)
    seed_failure_log(username="nobody@example.com", failures=99)

    known = login("192.0.2.200", user.email, WRONG)
    unknown = login("192.0.2.200", "nobody@example.com", WRONG)

    assert_locked(known, account=True)
    assert_locked(unknown, account=True)
    assert known.json() == unknown.json()
    assert known["Retry-After"] == unknown["Retry-After"]


def test_staff_unlock_and_password_reset_lift_the_account_lock(client, user, outsider, password):
    staff = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client.force_login(staff)
    for account in (user, outsider):
        seed_failure_log(username=account.email, failures=100)
        seed_attempts(username=account.email, ip=ATTACKER, failures=10)
        assert_locked(login(OWNER, account.email, password), account=True)

    # axes' admin shows the attempts and the failures.
    assert user.email in client.get("/admin/axes/accessattempt/?q=alice").content.decode()
    assert user.email in client.get("/admin/axes/accessfailurelog/?q=alice").content.decode()
    r = client.post(
        "/admin/accounts/user/", {"action": "unlock_sign_in", "_selected_action": [user.pk]}, REMOTE_ADDR=OWNER
    )
    assert r.status_code == 302
    assert login(OWNER, user.email, password).status_code == 200
    assert login(ATTACKER, user.email, password).status_code == 200

    password_reset.send(sender=type(outsider), request=None, user=outsider)
    assert login(OWNER, outsider.email, password).status_code == 200


# --- the same rules on the other password paths ---------------------------------------------


def test_admin_login_is_limited_the_same_way(client, password):
    staff = UserFactory(email="staff@example.com", is_staff=True)
    for _ in range(9):
        r = client.post(ADMIN_LOGIN, {"username": staff.email, "password": WRONG}, REMOTE_ADDR=ATTACKER)
        assert r.status_code == 200  # the form again, with its error
    r = client.post(ADMIN_LOGIN, {"username": staff.email, "password": password}, REMOTE_ADDR=ATTACKER)
    assert r.status_code == 302  # a success below the limit (and it forgets those 9)
    client.logout()
    for _ in range(10):
        client.post(ADMIN_LOGIN, {"username": staff.email, "password": WRONG}, REMOTE_ADDR=ATTACKER)

    r = client.post(ADMIN_LOGIN, {"username": staff.email, "password": password}, REMOTE_ADDR=ATTACKER)

    assert r.status_code == 429
    assert r["Content-Type"].startswith("text/html")
    assert 0 < int(r["Retry-After"]) <= 900
    assert "Too many failed sign-in attempts" in r.content.decode()
    elsewhere = client.post(ADMIN_LOGIN, {"username": staff.email, "password": password}, REMOTE_ADDR=OWNER)
    assert elsewhere.status_code == 302


def test_allauth_headless_login_is_limited_the_same_way(client, user, password):
    def allauth_login(ip, secret):
        return client.post(
            ALLAUTH_LOGIN, {"email": user.email, "password": secret}, content_type="application/json", REMOTE_ADDR=ip
        )

    for _ in range(9):
        assert allauth_login(ATTACKER, WRONG).status_code == 400  # allauth's "wrong password"
    assert_locked(allauth_login(ATTACKER, WRONG))
    assert_locked(allauth_login(ATTACKER, password))
    assert allauth_login(OWNER, password).status_code == 200


def test_every_path_shares_one_count(client, user, password):
    for _ in range(4):
        assert login(ATTACKER, user.email, WRONG).status_code == 401
    for _ in range(3):
        body = {"email": user.email, "password": WRONG}
        r = client.post(ALLAUTH_LOGIN, body, content_type="application/json", REMOTE_ADDR=ATTACKER)
        assert r.status_code == 400
    for _ in range(2):
        r = client.post(ADMIN_LOGIN, {"username": user.email, "password": WRONG}, REMOTE_ADDR=ATTACKER)
        assert r.status_code == 200

    assert_locked(login(ATTACKER, user.email, WRONG))  # the 10th, on any path
    r = client.post(ADMIN_LOGIN, {"username": user.email, "password": password}, REMOTE_ADDR=ATTACKER)
    assert r.status_code == 429


def test_password_change_current_password_is_limited_the_same_way(auth_client, user, password):
    phone, laptop = auth_client(user, "phone"), auth_client(user, "laptop")
    attempt = {"old_password": WRONG, "new_password": "Brand-New-Secret-42"}
    for _ in range(9):
        assert phone.post(PASSWORD_CHANGE, attempt, REMOTE_ADDR=ATTACKER).status_code == 400
    assert_locked(phone.post(PASSWORD_CHANGE, attempt, REMOTE_ADDR=ATTACKER))

    # Another device of the same account from that address is refused too: a stolen session
    # cannot guess on. The owner's right password from elsewhere still works.
    right = {"old_password": password, "new_password": "Brand-New-Secret-42"}
    assert_locked(laptop.post(PASSWORD_CHANGE, right, REMOTE_ADDR=ATTACKER))
    assert laptop.post(PASSWORD_CHANGE, right, REMOTE_ADDR=OWNER).status_code == 204


def test_wrong_current_passwords_count_towards_the_login_limits(auth_client, user, password):
    phone = auth_client(user, "phone")
    attempt = {"old_password": WRONG, "new_password": "Brand-New-Secret-42"}
    for _ in range(10):
        phone.post(PASSWORD_CHANGE, attempt, REMOTE_ADDR=ATTACKER)

    assert_locked(login(ATTACKER, user.email, password))


# allauth's own per-user attempt limits (reauthenticate 10/min, change_password 5/min) stay, so
# these two seed the first failures instead of making them.


def test_allauth_reauthentication_is_limited_the_same_way(user, user_client, password):
    def reauth(secret, ip):
        return user_client.post(ALLAUTH_REAUTH, {"password": secret}, REMOTE_ADDR=ip)

    seed_attempts(username=user.email, ip=ATTACKER, failures=8)
    assert reauth(WRONG, ATTACKER).status_code == 400  # allauth's "incorrect password"
    assert_locked(reauth(WRONG, ATTACKER))
    assert_locked(reauth(password, ATTACKER))
    assert reauth(password, OWNER).status_code == 200


def test_allauth_password_change_is_limited_the_same_way(user, user_client, password):
    def change(secret, ip):
        body = {"current_password": secret, "new_password": "Brand-New-Secret-42"}
        return user_client.post(ALLAUTH_PASSWORD_CHANGE, body, REMOTE_ADDR=ip)

    seed_attempts(username=user.email, ip=ATTACKER, failures=8)
    assert change(WRONG, ATTACKER).status_code == 400  # allauth's "enter your current password"
    assert_locked(change(WRONG, ATTACKER))
    assert_locked(change(password, ATTACKER))
    assert change(password, OWNER).status_code == 200


def test_allauth_password_change_signs_the_other_devices_out(user, password):
    from accounts import services
    from accounts.models import Device

    other = services.session_start(user=user, device_id="other-phone")
    client = APIClient()
    mine = services.session_start(user=user, device_id="this-laptop")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {mine.tokens.access}")
    body = {"current_password": password, "new_password": "Brand-New-Secret-42"}
    assert client.post(ALLAUTH_PASSWORD_CHANGE, body, format="json").status_code == 200
    assert Device.objects.get(pk=other.device.pk).revoked_at is not None
    assert Device.objects.get(pk=mine.device.pk).revoked_at is None


# --- under the real ASGI server (axes' middleware runs async there) --------------------------


@pytest.mark.django_db(transaction=True)
def test_lockout_answer_over_asgi(asgi_server, password):
    user = UserFactory(email="dana@example.com")
    seed_attempts(username=user.email, ip="127.0.0.1", failures=10)
    with httpx.Client(base_url=asgi_server, timeout=30) as http:
        r = http.post(LOGIN, json={"email": user.email, "password": password})
        allauth = http.post(ALLAUTH_LOGIN, json={"email": user.email, "password": password})

    for response in (r, allauth):
        assert response.status_code == 429, response.text
        assert response.json()["code"] == CODE
        assert 0 < int(response.headers["Retry-After"]) <= 900
        assert response.headers["X-Request-ID"]


# --- the pieces -----------------------------------------------------------------------------


def test_username_key_folds_the_email_whatever_the_field():
    assert username_key(None, {"username": " Alice@Example.COM "}) == "alice@example.com"
    assert username_key(None, {"email": "alice@example.com", "password": "x"}) == "alice@example.com"
    assert username_key(None, {"password": "x"}) is None
    long_name = username_key(None, {"username": "a" * 300 + "\x00"})
    assert long_name.startswith("sha256:") and len(long_name) <= 255


def test_the_failure_log_keeps_the_newest_entries_past_its_limit(settings, user):
    settings.AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT = 3
    seed_failure_log(username=user.email, failures=3, ago=timedelta(days=2))
    seed_failure_log(username="other@example.com", failures=1)
    for _ in range(2):
        login(ATTACKER, user.email, WRONG)

    times = list(AccessFailureLog.objects.filter(username=user.email).values_list("attempt_time", flat=True))
    assert len(times) == 3
    assert sum(t > timezone.now() - timedelta(minutes=1) for t in times) == 2  # both new ones kept
    assert AccessFailureLog.objects.filter(username="other@example.com").count() == 1


def test_ipv6_addresses_of_one_64_share_their_failures(user, password):
    seed_attempts(username=user.email, ip="2001:db8:1:2::", failures=9)
    other_host_same_64 = APIClient(REMOTE_ADDR="2001:db8:1:2:dead:beef:0:1")
    assert other_host_same_64.post(LOGIN, {"email": user.email, "password": WRONG}).status_code == 429
    elsewhere = APIClient(REMOTE_ADDR="2001:db8:1:3::1")
    assert elsewhere.post(LOGIN, {"email": user.email, "password": password}).status_code == 200
