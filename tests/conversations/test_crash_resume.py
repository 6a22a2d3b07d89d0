"""Fault tests against real processes: the web server killed with SIGKILL mid-reply and restarted.

The server is a real uvicorn subprocess on its own database (a SQLite file, or a fresh PostgreSQL
database when the suite runs on PostgreSQL, with Redis when ``REDIS_URL`` is set), the upstream
the test's slow OpenAI-compatible server. A client that was reading when the server died resumes
with the last id it really received, and one that arrives after the restart joins late: both end
with ``message.done``, numbered above anything seen before the crash.
"""

import os

import httpx
import pytest

from tests.conversations.sse import iter_events
from tests.conversations.upstream import expected_text, upstream  # noqa: F401
from testsupport.servers import ServerProcess, manage, own_database, server_env

pytestmark = pytest.mark.slow

PASSWORD = "Crash-test-42"


def _env(database_url: str, tmp_path) -> dict:
    return server_env(database_url, tmp_path, CHAT_STALE_AFTER_SECONDS="2")


def _setup(env, upstream_url: str) -> None:  # noqa: F811
    manage(env, "migrate", "--noinput")
    script = (
        "from conversations.models import LLMModel; "
        "LLMModel.objects.create(slug='slow', display_name='slow', provider='openai', upstream_model='slow:400', "
        f"base_url='{upstream_url}', max_output_tokens=4000, context_window=8192)"
    )
    manage(env, "shell", "-c", script)


def _sign_in(base) -> dict:
    body = {"email": "crash@example.com", "password": PASSWORD}
    assert httpx.post(f"{base}/api/v1/auth/register", json=body).status_code == 202
    access = httpx.post(f"{base}/api/v1/auth/login", json=body).json()["access"]
    return {"Authorization": f"Bearer {access}"}


def _read_until_final(base, conversation_id, headers, last_event_id=None):
    extra = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
    url = f"{base}/api/v1/conversations/{conversation_id}/stream"
    with httpx.stream("GET", url, headers={**headers, **extra}, timeout=30) as response:
        assert response.status_code == 200
        return list(iter_events(response))


def test_resume_after_the_server_was_killed_mid_reply_ends_with_done(tmp_path, upstream):  # noqa: F811
    with own_database(tmp_path, "crash") as database_url:
        env = _env(database_url, tmp_path)
        _setup(env, upstream.base_url)
        server = ServerProcess(env).start()
        try:
            headers = _sign_in(server.base)
            created = httpx.post(
                f"{server.base}/api/v1/conversations", json={"model": "slow", "message": "Tell me"}, headers=headers
            )
            assert created.status_code == 201, created.text
            conversation_id = created.json()["id"]

            # A client reads part of the reply, then the server dies under it.
            seen = []
            url = f"{server.base}/api/v1/conversations/{conversation_id}/stream"
            with pytest.raises(httpx.HTTPError):
                with httpx.stream("GET", url, headers=headers, timeout=30) as response:
                    for event in iter_events(response):
                        seen.append(event)
                        if len(seen) >= 8:
                            server.kill()
            last_seen = max(e.id for e in seen)
            text_seen = "".join(e.data.get("text", "") for e in seen if e.name in ("snapshot", "delta"))
            assert text_seen and expected_text(400).startswith(text_seen)

            server.start()  # same port, same database: the reply's worker is gone
            resumed = _read_until_final(server.base, conversation_id, headers, last_event_id=last_seen)
            late = _read_until_final(server.base, conversation_id, headers)
        finally:
            server.stop()

    for events in (resumed, late):
        assert events[-1].name == "message.done"
        assert events[-1].data["status"] == "interrupted"
        ids = [e.id for e in events]
        assert ids == sorted(set(ids))
    # Ids never go back: everything the resuming client gets is numbered above what it saw.
    assert min(e.id for e in resumed) > last_seen
    assert late[0].name == "snapshot"
    if os.environ.get("REDIS_URL"):
        # The shared log outlived the process: the resuming client gets exactly the text it missed.
        missed = "".join(e.data["text"] for e in resumed if e.name == "delta")
        assert late[0].data["text"] == text_seen + missed
    else:
        # The log died with the process: the text saved at the last checkpoint, as a snapshot
        # (a crash loses at most the text of the last checkpoint interval).
        assert resumed[0].name == "snapshot"
        assert resumed[0].data["text"] == late[0].data["text"]
    assert expected_text(400).startswith(late[0].data["text"])
