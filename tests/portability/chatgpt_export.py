"""A ChatGPT data export made for the tests, shaped like the real one (``conversations.json`` of
"Settings > Data controls > Export data"): two conversations, the first with a regenerated reply
(``current_node`` follows the second one), a hidden system message, an empty node, a tool message,
an image part and non-ASCII text; the second with hidden custom instructions."""

import io
import json
import zipfile
from datetime import UTC, datetime

T0 = 1_718_000_000.250000  # 2024-06-10 06:13:20.25 UTC


def at(offset: float) -> datetime:
    return datetime.fromtimestamp(T0 + offset, tz=UTC)


def _message(node_id, role, parts, offset, *, content_type="text", hidden=False, name=None, **content):
    metadata = {"is_visually_hidden_from_conversation": True} if hidden else {"model_slug": "gpt-4o"}
    body = {"content_type": content_type, **content}
    if parts is not None:
        body["parts"] = parts
    return {
        "id": node_id,
        "author": {"role": role, "name": name, "metadata": {}},
        "create_time": None if offset is None else T0 + offset,
        "update_time": None,
        "content": body,
        "status": "finished_successfully",
        "end_turn": role == "assistant" or None,
        "weight": 1.0,
        "metadata": metadata,
        "recipient": "all",
        "channel": None,
    }


def _tree(nodes: list[tuple[str, dict | None, str | None]]) -> dict:
    """(id, message, parent) in any order -> the export's ``mapping`` with children filled in."""
    mapping = {
        node_id: {"id": node_id, "message": message, "parent": parent, "children": []}
        for node_id, message, parent in nodes
    }
    for node_id, _, parent in nodes:
        if parent is not None:
            mapping[parent]["children"].append(node_id)
    return mapping


def trip_conversation() -> dict:
    """Branch seen: root > hidden system > u1 > a2 (regenerated; a1 is the abandoned reply) > u2 >
    empty assistant node > tool output > a3."""
    nodes = [
        ("client-created-root", None, None),
        ("sys", _message("sys", "system", [""], None, hidden=True), "client-created-root"),
        ("u1", _message("u1", "user", ["Wie sagt man Grüße in 東京?"], 10), "sys"),
        ("a1", _message("a1", "assistant", ["First try: こんにちは."], 20), "u1"),
        ("a2", _message("a2", "assistant", ["Man sagt „こんにちは“ — Grüße, 東京!"], 30), "u1"),
        (
            "u2",
            _message(
                "u2",
                "user",
                [
                    {"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-abc", "width": 10},
                    "Und was steht auf diesem Schild?",
                ],
                40,
                content_type="multimodal_text",
            ),
            "a2",
        ),
        ("empty", _message("empty", "assistant", [""], 41), "u2"),
        (
            "tool",
            _message("tool", "tool", None, 42, content_type="execution_output", name="python", text="ok"),
            "empty",
        ),
        ("a3", _message("a3", "assistant", ["Da steht „出口“: Ausgang."], 50), "tool"),
    ]
    return {
        "title": "Grüße, 東京",
        "create_time": T0,
        "update_time": T0 + 60,
        "mapping": _tree(nodes),
        "moderation_results": [],
        "current_node": "a3",
        "plugin_ids": None,
        "conversation_id": "6f1c0c2e-0000-4000-8000-000000000001",
        "conversation_template_id": None,
        "gizmo_id": None,
        "is_archived": False,
        "safe_urls": [],
        "default_model_slug": "gpt-4o",
        "id": "6f1c0c2e-0000-4000-8000-000000000001",
    }


def recipe_conversation() -> dict:
    nodes = [
        ("root", None, None),
        (
            "ctx",
            _message(
                "ctx",
                "user",
                None,
                100,
                content_type="user_editable_context",
                hidden=True,
                user_profile="I cook a lot.",
                user_instructions="Be brief.",
            ),
            "root",
        ),
        ("q", _message("q", "user", ["A quick pancake recipe?"], 110), "ctx"),
        (
            "code",
            _message("code", "assistant", None, 115, content_type="code", language="python", text="print(2 * 100)"),
            "q",
        ),
        ("r", _message("r", "assistant", ["Flour, milk, eggs: whisk and fry."], 120), "code"),
    ]
    return {
        "title": "Pancakes",
        "create_time": T0 + 100,
        "update_time": T0 + 130,
        "mapping": _tree(nodes),
        "current_node": "r",
        "id": "6f1c0c2e-0000-4000-8000-000000000002",
    }


def versions_conversation() -> dict:
    """Every version kept: the first reply regenerated (a1, a1b under u1), then the second question
    edited (u2, u2b under a1b), each with its reply; ``current_node`` is on the older branch (the
    user went back to u2's first version), and is an empty node left out, below a2."""
    nodes = [
        ("client-created-root", None, None),
        ("sys", _message("sys", "system", [""], None, hidden=True), "client-created-root"),
        ("u1", _message("u1", "user", ["Name a river in Seoul."], 200), "sys"),
        ("a1", _message("a1", "assistant", ["The Han."], 210), "u1"),
        ("a1b", _message("a1b", "assistant", ["The Han River (한강)."], 220), "u1"),
        ("u2", _message("u2", "user", ["How long is it?"], 230), "a1b"),
        ("tool", _message("tool", "tool", None, 235, content_type="execution_output", name="python", text="494"), "u2"),
        ("a2", _message("a2", "assistant", ["About 494 km."], 240), "tool"),
        ("after-a2", _message("after-a2", "assistant", [""], 241), "a2"),
        ("u2b", _message("u2b", "user", ["How wide is it?"], 250), "a1b"),
        ("a2b", _message("a2b", "assistant", ["Up to about 1 km."], 260), "u2b"),
    ]
    return {
        "title": "Han River",
        "create_time": T0 + 200,
        "update_time": T0 + 270,
        "mapping": _tree(nodes),
        "current_node": "after-a2",
        "id": "6f1c0c2e-0000-4000-8000-000000000003",
        "conversation_id": "6f1c0c2e-0000-4000-8000-000000000003",
        "default_model_slug": "gpt-4o",
    }


def export(*conversations) -> list[dict]:
    return list(conversations) if conversations else [trip_conversation(), recipe_conversation()]


def as_json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def as_zip(data, *, name: str = "conversations.json") -> bytes:
    """The export's zip as downloaded: conversations.json beside the other files of an export."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("user.json", json.dumps({"id": "user-1", "email": "ann@example.com"}))
        archive.writestr("chat.html", "<html><body>chats</body></html>")
        archive.writestr("message_feedback.json", "[]")
        archive.writestr(name, as_json(data))
    return buffer.getvalue()
