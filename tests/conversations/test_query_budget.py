"""Sending a message is the hot path: its statement count is fixed (and asserted here)."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db


def _statement_kinds(captured) -> Counter:
    # BEGIN/COMMIT/SAVEPOINT differ between SQLite and PostgreSQL; count only the data statements.
    kinds = Counter(q["sql"].split(None, 1)[0].upper() for q in captured)
    return Counter({k: v for k, v in kinds.items() if k in {"SELECT", "INSERT", "UPDATE", "DELETE"}})


@pytest.mark.parametrize("history", [1, 60])
def test_sending_a_message_costs_the_same_statements_whatever_the_history(user_client, history):
    conversation_id = user_client.post("/api/v1/conversations", {"title": "budget"}, format="json").json()["id"]
    two_days_ago = timezone.now() - timedelta(days=2)  # older than today's quota window
    rows = [
        Message(conversation_id=conversation_id, role=role, content=f"m{i}", created_at=two_days_ago, depth=i)
        for i, role in enumerate(("user", "assistant") * history)
    ]
    for parent, child in zip(rows, rows[1:], strict=False):
        child.parent = parent
    Message.objects.bulk_create(rows)
    Conversation.objects.filter(pk=conversation_id).update(current_message=rows[-1])

    with CaptureQueriesContext(connection) as ctx:
        response = user_client.post(
            f"/api/v1/conversations/{conversation_id}/messages", {"content": "hello"}, format="json"
        )

    assert response.status_code == 202, response.content
    assert _statement_kinds(ctx.captured_queries) == Counter(
        {
            # 1 session (device + user), 2 the conversation with its current leaf (the new
            # question's parent), 3 the user's settings locked with
            # their plan, 4 the plans allowed to use the model, 5 messages sent today (quota),
            # 6 replies in flight (concurrency)
            "SELECT": 6,
            # the user's message and the pending reply
            "INSERT": 2,
            # the conversation's updated_at and current leaf
            "UPDATE": 1,
        }
    )
