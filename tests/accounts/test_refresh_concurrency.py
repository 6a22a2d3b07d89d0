"""Races against a real threaded server: parallel refreshes, registrations and logins."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from accounts import services
from accounts.models import Device, User
from tests.accounts import jwt_forge
from tests.accounts.factories import UserFactory

PARALLEL = 8


def _race_refreshes(url: str, refresh_token: str) -> list[tuple[int, dict]]:
    start = threading.Barrier(PARALLEL)

    def refresh_once(_):
        with httpx.Client(base_url=url, timeout=30) as client:
            start.wait()  # release every request at the same moment
            r = client.post("/api/v1/auth/refresh", json={"refresh": refresh_token})
            return r.status_code, r.json()

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(refresh_once, range(PARALLEL)))


@pytest.mark.django_db(transaction=True)
def test_parallel_refreshes_of_one_token_share_one_rotation_and_keep_the_session(live_server):
    # transaction=True: the server threads must see the committed session. Tabs and apps waking
    # up race like this; the losers used to count as reuse and sign the device out (zero sessions).
    user = UserFactory(email="racer@example.com")
    session = services.session_start(user=user, device_id="racer")

    results = _race_refreshes(live_server.url, session.tokens.refresh)

    assert [status for status, _ in results] == [200] * PARALLEL, results
    # One rotation happened; everyone got its pair.
    assert len({body["refresh"] for _, body in results}) == 1
    device = Device.objects.get(pk=session.device.pk)
    assert device.revoked_at is None
    assert jwt_forge.claims_of(results[0][1]["refresh"])["jti"] == device.refresh_jti
    with httpx.Client(base_url=live_server.url) as client:
        r = client.get("/api/v1/user", headers={"Authorization": f"Bearer {results[0][1]['access']}"})
    assert r.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_after_the_reuse_interval_a_race_is_reuse_and_signs_only_that_device_out(live_server, reuse_interval_over):
    user = UserFactory(email="late-racer@example.com")
    session = services.session_start(user=user, device_id="racer")
    bystander = services.session_start(user=user, device_id="bystander")

    results = _race_refreshes(live_server.url, session.tokens.refresh)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [401] * (PARALLEL - 1), results
    losers = {body["code"] for status, body in results if status == 401}
    assert "token_reused" in losers
    assert losers <= {"token_reused", "token_not_valid"}
    assert Device.objects.get(pk=session.device.pk).revoked_at is not None
    with httpx.Client(base_url=live_server.url) as client:
        r = client.get("/api/v1/user", headers={"Authorization": f"Bearer {bystander.tokens.access}"})
    assert r.status_code == 200


def _parallel_posts(url: str, payloads: list[dict]) -> list[tuple[int, dict]]:
    start = threading.Barrier(len(payloads))

    def post(payload):
        with httpx.Client(timeout=30) as client:
            start.wait()
            r = client.post(url, json=payload)
            return r.status_code, r.json()

    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        return list(pool.map(post, payloads))


@pytest.mark.django_db(transaction=True)
def test_parallel_registrations_of_one_email_create_one_user(live_server, password):
    payload = {"email": "twin@example.com", "password": password}

    results = _parallel_posts(f"{live_server.url}/api/v1/auth/register", [payload] * PARALLEL)

    # One account; every answer the same (a registration never says the email was taken).
    assert [status for status, _ in results] == [202] * PARALLEL, results
    assert len({str(body) for _, body in results}) == 1
    assert User.objects.filter(email="twin@example.com").count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_first_logins_on_one_device_id_share_one_device(live_server, password):
    user = UserFactory(email="double-click@example.com")
    payload = {"email": user.email, "password": password, "device_id": "fresh-device"}

    results = _parallel_posts(f"{live_server.url}/api/v1/auth/login", [payload] * PARALLEL)

    assert [status for status, _ in results] == [200] * PARALLEL, results
    assert Device.objects.filter(user=user, device_id="fresh-device").count() == 1
    # The login that committed last owns the device; its tokens work.
    device = Device.objects.get(user=user, device_id="fresh-device")
    winners = [body for _, body in results if jwt_forge.claims_of(body["refresh"])["jti"] == device.refresh_jti]
    assert len(winners) == 1
    with httpx.Client(base_url=live_server.url) as client:
        r = client.get("/api/v1/user", headers={"Authorization": f"Bearer {winners[0]['access']}"})
    assert r.status_code == 200
