"""Conversations become trees: every message gets its parent and depth, every conversation its
current leaf (``superseded`` goes in 0014, its own transaction: PostgreSQL alters no table with
the foreign keys' checks of these updates still pending). Nothing is lost: a turn a regenerate or an edit replaced
becomes a sibling of what replaced it (the rule of ``conversations.tree.parents_from_line``,
copied here so this migration never changes with the code)."""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 500


def parents_from_line(rows):
    """rows: (id, role, superseded) in time order -> (parents, depths, current leaf)."""
    parents, depths, stack = {}, {}, []
    for pk, role, superseded in rows:
        if role == "user" and stack and stack[-1][2]:
            while stack and stack[-1][1] != "user":
                stack.pop()
            if stack:
                stack.pop()
        parents[pk] = stack[-1][0] if stack else None
        depths[pk] = len(stack)
        stack.append((pk, role, superseded))
    current = next((pk for pk, _role, superseded in reversed(rows) if not superseded), rows[-1][0] if rows else None)
    return parents, depths, current


def to_trees(apps, schema_editor):
    Conversation = apps.get_model("conversations", "Conversation")
    Message = apps.get_model("conversations", "Message")
    conversation_ids = list(Conversation.objects.values_list("pk", flat=True))
    for conversation_id in conversation_ids:
        rows = list(
            Message.objects.filter(conversation_id=conversation_id)
            .order_by("created_at", "id")
            .values_list("id", "role", "superseded")
        )
        if not rows:
            continue
        parents, depths, current = parents_from_line(rows)
        changed = [Message(pk=pk, parent_id=parents[pk], depth=depths[pk]) for pk, _role, _s in rows]
        Message.objects.bulk_update(changed, ["parent", "depth"], batch_size=BATCH)
        # update(): the conversation's updated_at (auto_now) is when it was last active, not now.
        Conversation.objects.filter(pk=conversation_id).update(current_message_id=current)


def to_lines(apps, schema_editor):
    """Back to a line: every message not on its conversation's active path is superseded."""
    Conversation = apps.get_model("conversations", "Conversation")
    Message = apps.get_model("conversations", "Message")
    for conversation_id, current in Conversation.objects.values_list("pk", "current_message_id"):
        parents = dict(Message.objects.filter(conversation_id=conversation_id).values_list("id", "parent_id"))
        on_path = set()
        while current is not None and current not in on_path:
            on_path.add(current)
            current = parents.get(current)
        Message.objects.filter(conversation_id=conversation_id).exclude(pk__in=on_path).update(superseded=True)


class Migration(migrations.Migration):
    dependencies = [("conversations", "0012_prompt_language")]

    operations = [
        migrations.AddField(
            model_name="message",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="children",
                to="conversations.message",
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="depth",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="conversation",
            name="current_message",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="conversations.message",
            ),
        ),
        migrations.RunPython(to_trees, to_lines, elidable=False),
    ]
