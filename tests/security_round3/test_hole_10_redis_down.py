"""Redis going away under a running server: the API answers 503 with ``Retry-After`` (OpenAI's
error shape on ``/v1``), never a 500, and no reply is started that nobody could follow; a
WebSocket still delivers what the database holds and closes normally, never with an abnormal
closure (1006; where it cannot go on it closes with 1013, "try again later"). A real server
process and a real redis-server of the test's own, stopped mid-run."""

import asyncio
import json
import shutil
import subprocess
import time

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from testsupport.servers import ServerProcess, free_port, manage, own_database, server_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary"),
]

PASSWORD = "Redis-down-42"


class OwnRedis:
    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen(  # noqa: S603 (Debian's redis-server, fixed arguments)
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while subprocess.run([shutil.which("redis-cli"), "-p", str(self.port), "ping"], capture_output=True).returncode:  # noqa: S603
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def server_with_own_redis(tmp_path):
    redis = OwnRedis()
    try:
        with own_database(tmp_path, "redisdown") as database_url:
            env = server_env(database_url, tmp_path, REDIS_URL=redis.url)
            manage(env, "migrate", "--noinput")
            script = (
                "from accounts.models import User; from accounts import services; "
                f"u = User.objects.create_user(email='r@example.com', password='{PASSWORD}'); "
                "print(services.api_key_create(user=u, name='k')[1])"
            )
            key = manage(env, "shell", "-c", script).strip().splitlines()[-1]
            server = ServerProcess(env).start()
            try:
                yield server, redis, key
            finally:
                server.stop()
    finally:
        redis.stop()


def test_openai_api_and_app_answer_503_while_redis_is_down(server_with_own_redis):
    server, redis, key = server_with_own_redis
    access = httpx.post(
        f"{server.base}/api/v1/auth/login", json={"email": "r@example.com", "password": PASSWORD}
    ).json()["access"]
    redis.stop()

    body = {"model": "smollm2-135m", "messages": [{"role": "user", "content": "hi"}]}
    for stream in (False, True):
        response = httpx.post(
            f"{server.base}/v1/chat/completions",
            json={**body, "stream": stream},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"].isdigit()
        assert response.json()["error"]["code"] == "service_unavailable"

    response = httpx.post(
        f"{server.base}/api/v1/conversations",
        json={"message": "hi"},
        headers={"Authorization": f"Bearer {access}"},
        timeout=30,
    )
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "service_unavailable"


def test_a_websocket_closes_with_try_again_later_while_redis_is_down(server_with_own_redis):
    server, redis, _key = server_with_own_redis
    auth = httpx.post(f"{server.base}/api/v1/auth/login", json={"email": "r@example.com", "password": PASSWORD})
    access = auth.json()["access"]
    headers = {"Authorization": f"Bearer {access}"}
    # A conversation with a reply (it ends at once: no model server runs here), whose event log
    # lives in Redis.
    conversation = httpx.post(f"{server.base}/api/v1/conversations", json={"message": "hi"}, headers=headers).json()
    conversation = conversation["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        messages = httpx.get(f"{server.base}/api/v1/conversations/{conversation}/messages", headers=headers).json()
        if messages["results"][-1]["status"] not in ("pending", "streaming"):
            break
        time.sleep(0.2)
    redis.stop()

    async def talk():
        url = server.base.replace("http", "ws") + f"/ws/conversations/{conversation}/"
        events = []
        async with connect(url, origin=server.base) as ws:
            await ws.send(json.dumps({"type": "auth", "token": access}))
            try:
                while True:
                    events.append(json.loads(await asyncio.wait_for(ws.recv(), 20)))
            except ConnectionClosed as closed:
                return events, (closed.rcvd.code if closed.rcvd else None)

    # Before: the consumer's own channel-layer poll died with Redis and the socket dropped with no
    # close frame (1006). The reply's final state comes from the database, then a normal close.
    events, code = asyncio.run(talk())
    assert code == 1000
    assert events[-1]["event"] == "message.done"


@pytest.mark.django_db(transaction=True)
def test_a_websocket_whose_events_cannot_be_read_closes_with_1013(asgi_server, user, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from conversations.streaming import listener
    from tests.conversations.factories import ConversationFactory
    from tests.conversations.test_stream import bearer

    conversation = ConversationFactory(owner=user)
    token = bearer(user)["Authorization"].split()[1]

    async def broken_listen(**kwargs):
        raise RedisConnectionError("Connection refused")
        yield  # an async generator, as listener.listen is

    monkeypatch.setattr(listener, "listen", broken_listen)

    async def talk():
        url = asgi_server.replace("http", "ws") + f"/ws/conversations/{conversation.pk}/"
        async with connect(url, origin="http://127.0.0.1") as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 20)
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None

    assert asyncio.run(talk()) == 1013
