"""``/metrics``: Prometheus text an operator scrapes (core/metrics.py), from the host itself or with
``METRICS_TOKEN``; the replies' figures as the runner counts them, through a real reply against the
fake upstream."""

import pytest
from prometheus_client import REGISTRY

from conversations.models import Conversation, Message, MessageStatus, Role
from tests.conversations.replies import finish_reply
from tests.conversations.upstream import upstream  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def text(client, **extra) -> str:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_the_host_itself_reads_it_and_nobody_else_without_the_token(client, settings):
    body = text(client)  # the test client's peer is 127.0.0.1
    for name in (
        "chat_replies_in_flight",
        "chat_time_to_first_token_seconds",
        "chat_reply_tokens_total",
        "chat_upstream_errors_total",
        "http_request_duration_seconds",
    ):
        assert f"# TYPE {name}" in body, name
    outside = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert outside.status_code == 404 and outside.json()["code"] == "not_found"
    # Through a reverse proxy on the same host: not local.
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 404
    settings.METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    text(client, REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-me")


def test_a_requests_time_is_counted_by_its_route_not_its_path(client):
    before = value("http_request_duration_seconds_count", route="model-list", method="GET", status="2xx")
    assert client.get("/api/v1/models").status_code == 200
    after = value("http_request_duration_seconds_count", route="model-list", method="GET", status="2xx")
    assert after == before + 1
    conversation_id = "3f1b7c1e-7d0e-4c2b-9a51-2b8f5d8f3c11"
    assert client.get(f"/api/v1/conversations/{conversation_id}").status_code == 401
    body = text(client)
    assert 'route="conversation-detail",status="4xx"' in body and conversation_id not in body


def _reply(user, model) -> Message:
    conversation = Conversation.objects.create(owner=user, model=model)
    question = Message.objects.create(conversation=conversation, role=Role.USER, content="Hi", model=model)
    return Message.objects.create(
        conversation=conversation, parent=question, role=Role.ASSISTANT, status=MessageStatus.PENDING, model=model
    )


def test_a_reply_is_counted_tokens_first_token_and_in_flight_back_to_zero(user, upstream):  # noqa: F811
    from tests.conversations.attached import text_model

    model = text_model(upstream, "burst:5", slug="metered")
    tokens = value("chat_reply_tokens_total", model="metered")
    ttft = value("chat_time_to_first_token_seconds_count", model="metered")
    completed = value("chat_replies_total", model="metered", status="complete")
    in_flight = value("chat_replies_in_flight")
    reply = _reply(user, model)
    finish_reply(message_id=reply.id)
    assert Message.objects.get(pk=reply.pk).status == MessageStatus.COMPLETE
    assert value("chat_reply_tokens_total", model="metered") == tokens + 5
    assert value("chat_time_to_first_token_seconds_count", model="metered") == ttft + 1
    assert value("chat_replies_total", model="metered", status="complete") == completed + 1
    assert value("chat_replies_in_flight") == in_flight


def test_an_upstream_failure_is_counted_by_model_and_kind(user, upstream):  # noqa: F811
    from tests.conversations.attached import text_model

    model = text_model(upstream, "http500", slug="failing")
    reply = _reply(user, model)
    before = {
        sample.labels["kind"]: sample.value
        for metric in REGISTRY.collect()
        if metric.name == "chat_upstream_errors"
        for sample in metric.samples
        if sample.labels.get("model") == "failing" and sample.name.endswith("_total")
    }
    finish_reply(message_id=reply.id)
    row = Message.objects.get(pk=reply.pk)
    assert row.status == MessageStatus.ERROR and row.error_code
    assert (
        value("chat_upstream_errors_total", model="failing", kind=row.error_code) == before.get(row.error_code, 0) + 1
    )


def test_several_processes_are_summed_through_the_multiprocess_directory(tmp_path):
    """``make serve WORKERS=n`` sets PROMETHEUS_MULTIPROC_DIR: each worker writes its figures there
    and whichever answers /metrics sums them (here: two processes, then a third reads)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    setup = "import django; django.setup(); from core import metrics; "
    for tokens in (3, 4):
        ended = f"metrics.reply_ended(model='m', status='complete', tokens={tokens}, ttft_seconds=0.2)"
        code = setup + "metrics.reply_started(); " + ended
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)  # noqa: S603 (our own code)
    read = setup + (
        "from django.test import RequestFactory; "
        "print(metrics.metrics_view(RequestFactory().get('/metrics', REMOTE_ADDR='127.0.0.1')).content.decode())"
    )
    body = subprocess.run(  # noqa: S603 (our own code)
        [sys.executable, "-c", read], env=env, check=True, timeout=60, capture_output=True, text=True
    )
    assert 'chat_reply_tokens_total{model="m"} 7.0' in body.stdout
    assert 'chat_time_to_first_token_seconds_count{model="m"} 2.0' in body.stdout
