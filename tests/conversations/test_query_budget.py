"""Sending a message is the hot path: its statement count is fixed (and asserted here)."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations.models import Message

pytestmark = pytest.mark.django_db


def _statement_kinds(captured) -> Counter:
    # BEGIN/COMMIT/SAVEPOINT differ between SQLite and PostgreSQL; count only the data statements.
    kinds = Counter(q["sql"].split(None, 1)[0].upper() for q in captured)
    return Counter({k: v for k, v in kinds.items() if k in {"SELECT", "INSERT", "UPDATE", "DELETE"}})


@pytest.mark.parametrize("history", [1, 60])
def test_sending_a_message_costs_the_same_statements_whatever_the_history(user_client, history):
    conversation_id = user_client.post("/api/v1/conversations", {"title": "budget"}, format="json").json()["id"]
    two_days_ago = timezone.now() - timedelta(days=2)  # older than today's quota window
    Message.objects.bulk_create(
        Message(conversation_id=conversation_id, role=role, content=f"m{i}", created_at=two_days_ago)
        for i in range(history)
        for role in ("user", "assistant")
    )

    with CaptureQueriesContext(connection) as ctx:
        response = user_client.post(
            f"/api/v1/conversations/{conversation_id}/messages", {"content": "hello"}, format="json"
        )

    assert response.status_code == 202, response.content
    assert _statement_kinds(ctx.captured_queries) == Counter(
        {
            # 1 session (device + user), 2 the conversation, 3 the user's settings locked with
            # their plan, 4 the plans allowed to use the model, 5 messages sent today (quota),
            # 6 replies in flight (concurrency)
            "SELECT": 6,
            # the user's message and the pending reply
            "INSERT": 2,
            # the conversation's updated_at
            "UPDATE": 1,
        }
    )
