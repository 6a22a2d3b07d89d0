"""Parallel refreshes of one token against a real threaded server: exactly one may win."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from accounts import services
from accounts.models import Device
from accounts.tests.factories import UserFactory

PARALLEL = 8


@pytest.mark.django_db(transaction=True)
def test_parallel_refreshes_of_one_token_let_exactly_one_succeed(live_server):
    # transaction=True: the server threads must see the committed session.
    user = UserFactory(email="racer@example.com")
    session = services.session_start(user=user, device_id="racer")
    bystander = services.session_start(user=user, device_id="bystander")
    start = threading.Barrier(PARALLEL)

    def refresh_once(_):
        with httpx.Client(base_url=live_server.url, timeout=30) as client:
            start.wait()  # release every request at the same moment
            r = client.post("/api/v1/auth/refresh", json={"refresh": session.tokens.refresh})
            return r.status_code, r.json()

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(refresh_once, range(PARALLEL)))

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [401] * (PARALLEL - 1), results
    losers = {body["code"] for status, body in results if status == 401}
    # The first loser sees a rotated token (reuse) and kills the family; later ones find it dead.
    assert "token_reused" in losers
    assert losers <= {"token_reused", "token_not_valid"}
    device = Device.objects.get(pk=session.device.pk)
    assert device.revoked_at is not None
    # Another device of the same user is untouched by the race.
    with httpx.Client(base_url=live_server.url) as client:
        r = client.get("/api/v1/user", headers={"Authorization": f"Bearer {bystander.tokens.access}"})
    assert r.status_code == 200
