"""A reply's final save and the deletion of its conversation take their row locks in one order
(the message, then its ledger entry), so on PostgreSQL neither waits for the other in a circle:
before, the deletion locked the ledger entry first and PostgreSQL aborted one of them as a
deadlock (a 500 on the deletion, or a reply whose end was never saved)."""

import threading
import time

import pytest
from django.db import connection

from conversations import services
from conversations.generation import rows
from conversations.models import Conversation, LedgerEntry, Message, MessageStatus
from tests.conversations.factories import ConversationFactory, turn

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks (the PostgreSQL pass of CI)"),
]


def test_a_reply_ending_while_its_conversation_is_deleted_neither_deadlocks(user, monkeypatch):
    conversation = ConversationFactory(owner=user)
    reply = turn(conversation, status=MessageStatus.STREAMING, completion_tokens=0)
    holds_message = threading.Event()
    deletion_started = threading.Event()
    ledger_end = rows._ledger_end

    def ledger_end_after_the_deletion_began(**kwargs):
        # The final save holds the message's row now; the deletion starts before it goes on.
        holds_message.set()
        deletion_started.wait(10)
        time.sleep(0.5)  # long enough for the deletion to take whatever lock it takes first
        ledger_end(**kwargs)

    monkeypatch.setattr(rows, "_ledger_end", ledger_end_after_the_deletion_began)
    errors = []

    def finalise():
        try:
            rows.reply_finalise(message_id=reply.pk, status=MessageStatus.COMPLETE, content="Done.")
        except Exception as error:  # noqa: BLE001 - the test reports any failure of either side
            errors.append(("finalise", error))
            holds_message.set()
        finally:
            connection.close()

    def delete():
        try:
            holds_message.wait(10)
            deletion_started.set()
            services.conversation_delete(conversation=Conversation.objects.get(pk=conversation.pk))
        except Exception as error:  # noqa: BLE001
            errors.append(("delete", error))
        finally:
            connection.close()

    threads = [threading.Thread(target=finalise), threading.Thread(target=delete)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(pk=reply.pk).exists()
    # The reply ended before the deletion went on: its entry keeps how it ended.
    assert LedgerEntry.objects.get(message_id=reply.pk).status == MessageStatus.COMPLETE
