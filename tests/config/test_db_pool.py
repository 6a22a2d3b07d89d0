"""PostgreSQL under a burst: 200 concurrent requests to one server process get zero errors.

Under ASGI every sync view runs on a thread of its own; without a pool each opened a connection
and about half of such a burst failed with "too many clients". The server runs as a real uvicorn
process on a fresh database with a deliberately small pool (10), so the burst must queue on it.
"""

import asyncio
import os

import httpx
import pytest

from testsupport.servers import ServerProcess, manage, own_database, server_env

PASSWORD = "Burst-test-42"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="PostgreSQL only"),
]

BURST = 200


async def _burst(base: str, headers: dict) -> list[int]:
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        responses = await asyncio.gather(*(client.get("/api/v1/conversations", headers=headers) for _ in range(BURST)))
    return [r.status_code for r in responses]


def test_a_burst_of_requests_waits_for_pooled_connections_instead_of_failing(tmp_path):
    with own_database(tmp_path, "pool") as database_url:
        env = server_env(database_url, tmp_path, DB_POOL_MAX_SIZE="10", DB_POOL_TIMEOUT="60")
        manage(env, "migrate", "--noinput")
        server = ServerProcess(env).start()
        try:
            body = {"email": "burst@example.com", "password": PASSWORD}
            assert httpx.post(f"{server.base}/api/v1/auth/register", json=body).status_code == 202
            access = httpx.post(f"{server.base}/api/v1/auth/login", json=body).json()["access"]
            statuses = asyncio.run(_burst(server.base, {"Authorization": f"Bearer {access}"}))
        finally:
            server.stop()
    assert statuses == [200] * BURST
