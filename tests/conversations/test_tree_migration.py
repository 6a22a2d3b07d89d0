"""Migrations 0013/0014 on a copy of the data shape before trees: conversations kept as lines, where
a regenerate or an edit marked the last turn ``superseded`` and appended the new one. Forward,
every superseded turn becomes a sibling of what replaced it, the current leaf is the last message
not superseded, and nothing is lost; backward, the messages off the active path are superseded
again."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)  # migrating alters tables

BEFORE = [("conversations", "0012_prompt_language")]
TREES = [("conversations", "0013_message_tree")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def old_apps():
    """The schema as of 0012 (``superseded`` exists); the latest one again afterwards."""
    try:
        yield migrate(BEFORE)
    finally:
        migrate(latest())


def old_line(apps, owner, turns, **conversation_fields):
    """A conversation as the old code made it: ``turns`` are (role, text, superseded), in time order."""
    Conversation = apps.get_model("conversations", "Conversation")
    Message = apps.get_model("conversations", "Message")
    start = timezone.now() - timedelta(days=30)
    conversation = Conversation.objects.create(owner=owner, title="old", **conversation_fields)
    messages = [
        Message.objects.create(
            conversation=conversation,
            role=role,
            content=text,
            status="complete",
            superseded=superseded,
            created_at=start + timedelta(seconds=index),
        )
        for index, (role, text, superseded) in enumerate(turns)
    ]
    return conversation, {m.content: m.pk for m in messages}


def test_superseded_turns_become_siblings_and_nothing_is_lost(old_apps):
    User = old_apps.get_model("accounts", "User")
    owner = User.objects.create(email="old@example.com", password="")
    # A line whose last turn was regenerated (the old regenerate asked the question again).
    regenerated, r = old_line(
        old_apps,
        owner,
        [
            ("user", "q1", False),
            ("assistant", "a1", False),
            ("user", "q2", True),
            ("assistant", "a2", True),
            ("user", "q2 again", False),
            ("assistant", "a2 again", False),
        ],
    )
    # An edit superseded twice: three versions of the second question.
    edited, e = old_line(
        old_apps,
        owner,
        [
            ("user", "hello", False),
            ("assistant", "hi", False),
            ("user", "secnd", True),
            ("assistant", "reply to secnd", True),
            ("user", "second", True),
            ("assistant", "reply to second", True),
            ("user", "second!", False),
            ("assistant", "reply to second!", False),
            ("user", "third", False),
            ("assistant", "reply to third", False),
        ],
    )
    # A continuation: a reply cut at the limit and the reply going on from it; then the first
    # question edited (its whole line superseded).
    continued, c = old_line(
        old_apps,
        owner,
        [
            ("user", "story", True),
            ("assistant", "once upon", True),
            ("assistant", "a time", True),
            ("user", "story, short", False),
            ("assistant", "the end", False),
        ],
    )
    api, a = old_line(old_apps, owner, [("user", "ping", False), ("assistant", "pong", False)], origin_kind="api")
    empty, _ = old_line(old_apps, owner, [])
    Conversation = old_apps.get_model("conversations", "Conversation")
    updated = dict(Conversation.objects.values_list("pk", "updated_at"))
    Message = old_apps.get_model("conversations", "Message")
    before = {m["id"]: m for m in Message.objects.values("id", "conversation_id", "role", "content", "created_at")}

    apps = migrate(latest())

    Message = apps.get_model("conversations", "Message")
    Conversation = apps.get_model("conversations", "Conversation")
    after = {m["id"]: m for m in Message.objects.values("id", "conversation_id", "role", "content", "created_at")}
    assert after == before  # nothing lost, nothing changed
    parent = dict(Message.objects.values_list("id", "parent_id"))
    depth = dict(Message.objects.values_list("id", "depth"))
    current = dict(Conversation.objects.values_list("pk", "current_message_id"))
    assert dict(Conversation.objects.values_list("pk", "updated_at")) == updated  # not made "active" now

    # The regenerated turn: the old and the new question are siblings under a1.
    assert [parent[r[t]] for t in ("q1", "a1", "q2", "a2", "q2 again", "a2 again")] == [
        None,
        r["q1"],
        r["a1"],
        r["q2"],
        r["a1"],
        r["q2 again"],
    ]
    assert [depth[r[t]] for t in ("q1", "a1", "q2", "a2", "q2 again", "a2 again")] == [0, 1, 2, 3, 2, 3]
    assert current[regenerated.pk] == r["a2 again"]

    # Three versions of the second question, each with its reply; the last goes on.
    assert {parent[e[t]] for t in ("secnd", "second", "second!")} == {e["hi"]}
    assert [parent[e[t]] for t in ("reply to secnd", "reply to second", "reply to second!")] == [
        e["secnd"],
        e["second"],
        e["second!"],
    ]
    assert (parent[e["third"]], parent[e["reply to third"]]) == (e["reply to second!"], e["third"])
    assert (depth[e["third"]], depth[e["reply to third"]]) == (4, 5)
    assert current[edited.pk] == e["reply to third"]

    # The continuation goes on from the cut reply; the edited first question is a second root.
    assert [parent[c[t]] for t in ("story", "once upon", "a time", "story, short", "the end")] == [
        None,
        c["story"],
        c["once upon"],
        None,
        c["story, short"],
    ]
    assert current[continued.pk] == c["the end"]

    assert (parent[a["ping"]], parent[a["pong"]], current[api.pk]) == (None, a["ping"], a["pong"])
    assert current[empty.pk] is None

    # Back to lines: what is off the active path is superseded again, as it was.
    old = migrate(BEFORE)
    Message = old.get_model("conversations", "Message")
    superseded = set(Message.objects.filter(superseded=True).values_list("content", flat=True))
    assert superseded == {
        "q2",
        "a2",
        "secnd",
        "reply to secnd",
        "second",
        "reply to second",
        "story",
        "once upon",
        "a time",
    }
    assert Message.objects.count() == len(before)
