"""Fill the reply ledger from the replies already in the database, so that today's quota and the
usage figures read the same numbers after the deploy as before it.

A reply asked for is an assistant message the engine took up (its stream bookkeeping was
written: ``stream_seq`` or ``heartbeat_at``) or is still waiting for (pending, streaming). Copies
of history are neither: an import (ChatGPT's or ours) and a clone of a share or a sample write
their messages as finished rows the engine never touched, so they stay out, as they do from now on.

Safe to run again: a reply already in the ledger is skipped.
"""

from django.db import migrations
from django.db.models import Q

BATCH = 2000
IN_FLIGHT = ("pending", "streaming")
FIELDS = ("status", "prompt_tokens", "completion_tokens", "latency_ms")


def fill_ledger(apps, schema_editor=None) -> int:
    """Write the ledger entry of every reply asked for that has none; returns how many replies were found."""
    Message = apps.get_model("conversations", "Message")
    LedgerEntry = apps.get_model("conversations", "LedgerEntry")
    asked_for = Q(stream_seq__gt=0) | Q(heartbeat_at__isnull=False) | Q(status__in=IN_FLIGHT)
    replies = (
        Message.objects.filter(asked_for, role="assistant")
        .order_by()
        .values("id", "conversation__owner_id", "conversation__api_key_id", "model_id", "created_at", *FIELDS)
    )
    found, batch = 0, []
    for row in replies.iterator(chunk_size=BATCH):
        api_key_id = row["conversation__api_key_id"]
        batch.append(
            LedgerEntry(
                message_id=row["id"],
                user_id=row["conversation__owner_id"],
                source="app" if api_key_id is None else "api",
                api_key_id=api_key_id,
                model_id=row["model_id"],
                created_at=row["created_at"],
                **{name: row[name] for name in FIELDS},
            )
        )
        if len(batch) == BATCH:
            found += len(LedgerEntry.objects.bulk_create(batch, ignore_conflicts=True))
            batch = []
    if batch:
        found += len(LedgerEntry.objects.bulk_create(batch, ignore_conflicts=True))
    return found


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0008_reply_ledger"),
    ]

    operations = [
        migrations.RunPython(fill_ledger, migrations.RunPython.noop, elidable=True),
    ]
