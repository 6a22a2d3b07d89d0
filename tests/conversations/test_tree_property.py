"""Property-based (hypothesis): random sequences of send, edit any question, regenerate any reply,
switch to any message and branch, with replies finishing, failing and being stopped in between,
against the fake upstream (tests.conversations.upstream). After every step:

- the set of messages only grows, and every message keeps its text once it is final;
- the active path (GET .../messages) is well-formed: root first, each message's parent the one
  before it, the first's parent null, the last the conversation's current_message_id;
- every listed message's sibling_ids are all the messages with its parent, oldest first;
- the history the upstream received for each reply is exactly the path above that reply.
"""

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Plan, UserSettings
from conversations.models import Conversation, Message, MessageStatus, Role
from tests.conversations.attached import text_model
from tests.conversations.upstream import upstream  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)  # ?wait=true: the reply starts after commit

FINAL = {MessageStatus.COMPLETE, MessageStatus.ERROR, MessageStatus.STOPPED, MessageStatus.INTERRUPTED}
# How a reply ends: the fake upstream's model name picks it.
# Names no other test uses: a request another test left running is told apart.
MODES = {"finish": "burst:7", "fail": "http500:1", "stop": "slow:200:0.01"}
SYSTEM = "Be brief."
# Every script starts from a short chat, so that its steps have messages to pick from.
OPENING = [("send", "finish"), ("send", "finish")]

outcomes = st.sampled_from(sorted(MODES))
index = st.integers(min_value=0, max_value=50)
steps = st.one_of(
    st.tuples(st.just("send"), outcomes),
    st.tuples(st.just("edit"), index, outcomes),
    st.tuples(st.just("regenerate"), index, outcomes),
    # To any message, or to its parent (often one with several versions below it).
    st.tuples(st.just("switch"), index, st.booleans()),
    st.tuples(st.just("branch"), index),
)


def url(conversation_id, suffix: str = "") -> str:
    return f"/api/v1/conversations/{conversation_id}{suffix}"


class Chat:
    """One conversation driven through the API, with what has been seen of it so far."""

    def __init__(self, client, user, upstream):  # noqa: F811
        self.client, self.upstream = client, upstream
        self.conversation = Conversation.objects.create(owner=user, system_prompt=SYSTEM)
        self.texts: dict[str, str] = {}  # final messages' texts, as first seen final
        self.seen: set[str] = set()

    # --- the steps ---------------------------------------------------------------------------

    def messages(self, role: str | None = None) -> list[Message]:
        rows = Message.objects.filter(conversation=self.conversation).order_by("created_at", "id")
        return list(rows.filter(role=role) if role else rows)

    def run(self, step: tuple) -> None:
        kind, *args = step
        if kind == "send":
            self.ask("/messages", {"content": f"question {len(self.seen)}"}, args[0])
        elif kind == "edit":
            questions = self.messages(Role.USER)
            if questions:
                edited = questions[args[0] % len(questions)]
                parent = str(edited.parent_id) if edited.parent_id else None
                payload = {"content": f"{edited.content}, edited", "parent_id": parent}
                self.ask("/messages", payload, args[1])
        elif kind == "regenerate":
            replies = self.messages(Role.ASSISTANT)
            if replies:
                self.ask(f"/messages/{replies[args[0] % len(replies)].pk}/regenerate", {}, args[1])
        elif kind == "switch":
            everything = self.messages()
            if everything:
                target = everything[args[0] % len(everything)]
                if args[1] and target.parent_id:
                    target = next(m for m in everything if m.pk == target.parent_id)
                response = self.client.patch(url(self.conversation.pk), {"current_message_id": str(target.pk)})
                assert response.status_code == 200, response.content
                path = [row["id"] for row in self.path()]
                assert str(target.pk) in path
                # And on down the newest version each time.
                leaf = target
                while children := [m for m in everything if m.parent_id == leaf.pk]:
                    leaf = children[-1]
                assert path[-1] == str(leaf.pk) == response.json()["current_message_id"]
        elif kind == "branch":
            everything = self.messages()
            if everything:
                self.branch(everything[args[0] % len(everything)])

    def ask(self, suffix: str, payload: dict, outcome: str) -> None:
        payload = {**payload, "model": MODES[outcome].replace(":", "-").replace(".", "-")}
        before = len(self.upstream.requests)
        if outcome == "stop":
            response = self.client.post(url(self.conversation.pk, suffix), payload, format="json")
            assert response.status_code == 202, response.content
            reply_id = response.json()["assistant_message"]["id"]
            self.asked(before)
            stop = self.client.post(url(self.conversation.pk, "/stop"), {"message_id": reply_id}, format="json")
            assert stop.status_code == 202, stop.content
            self.settle(reply_id)
        else:
            response = self.client.post(url(self.conversation.pk, suffix + "?wait=true"), payload, format="json")
            assert response.status_code == 201, response.content
            reply_id = response.json()["assistant_message"]["id"]
        reply = Message.objects.get(pk=reply_id)
        expected_status = {"finish": MessageStatus.COMPLETE, "fail": MessageStatus.ERROR, "stop": MessageStatus.STOPPED}
        assert reply.status == expected_status[outcome], (reply.status, reply.error)
        conversation = Conversation.objects.get(pk=self.conversation.pk)
        assert str(conversation.current_message_id) == reply_id  # what was just asked is current
        # The model read exactly the path above the reply (every attempt, if it was retried).
        sent = [request for request in self.upstream.requests[before:] if request["model"] in MODES.values()]
        assert sent, "the upstream was not asked"
        for request in sent:
            assert request["messages"] == self.history_above(reply), (request["messages"], self.history_above(reply))

    def asked(self, before: int) -> None:
        """Wait until the upstream is asked for the reply (a stop before it would ask nothing)."""
        deadline = time.monotonic() + 5
        while not any(request["model"] == MODES["stop"] for request in self.upstream.requests[before:]):
            assert time.monotonic() < deadline, "the upstream was never asked"
            time.sleep(0.01)

    def settle(self, reply_id: str) -> None:
        deadline = time.monotonic() + 10
        while Message.objects.in_flight().filter(pk=reply_id).exists():
            assert time.monotonic() < deadline, "the stopped reply never ended"
            time.sleep(0.01)

    def branch(self, message: Message) -> None:
        path = [row["id"] for row in self.path()]
        above = self.path_of(message)
        response = self.client.post(url(self.conversation.pk, f"/messages/{message.pk}/branch"), format="json")
        assert response.status_code == 201, response.content
        copy = self.client.get(url(response.json()["id"], "/messages?page_size=200")).json()["results"]
        assert [(row["role"], row["content"]) for row in copy] == [(m.role, m.content) for m in above]
        assert copy[-1]["id"] == response.json()["current_message_id"]
        assert not {row["id"] for row in copy} & {str(m.pk) for m in self.messages()}
        assert [row["id"] for row in self.path()] == path  # the original is not touched

    # --- what must hold ----------------------------------------------------------------------

    def path(self) -> list[dict]:
        response = self.client.get(url(self.conversation.pk, "/messages?page_size=200"))
        assert response.status_code == 200
        return response.json()["results"]

    def path_of(self, message: Message) -> list[Message]:
        by_id = {m.pk: m for m in self.messages()}
        path = []
        node = message
        while node is not None:
            path.append(node)
            node = by_id.get(node.parent_id)
        return path[::-1]

    def history_above(self, reply: Message) -> list[dict]:
        above = self.path_of(reply)[:-1]
        turns = [{"role": m.role, "content": m.content} for m in above if m.content or m.role == Role.USER]
        return [{"role": "system", "content": SYSTEM}, *turns]

    def check(self) -> None:
        everything = self.messages()
        ids = {str(m.pk) for m in everything}
        assert self.seen <= ids, "a message was lost"
        self.seen = ids
        for message in everything:
            key = str(message.pk)
            if message.status in FINAL:
                assert self.texts.setdefault(key, message.content) == message.content, "a text changed"
        assert not any(m.status not in FINAL for m in everything), "a reply is still in flight between steps"

        path = self.path()
        detail = self.client.get(url(self.conversation.pk)).json()
        assert detail["message_count"] == len(path)
        if not everything:
            assert (path, detail["current_message_id"]) == ([], None)
            return
        assert path[0]["parent_id"] is None
        for above, below in zip(path, path[1:], strict=False):
            assert below["parent_id"] == above["id"]
        assert path[-1]["id"] == detail["current_message_id"]
        by_parent: dict[str | None, list[str]] = {}
        for message in everything:  # oldest first
            by_parent.setdefault(str(message.parent_id) if message.parent_id else None, []).append(str(message.pk))
        for row in path:
            assert row["sibling_ids"] == by_parent[row["parent_id"]]
            assert row["content"] == self.texts[row["id"]]
        # The path ends at a leaf: nothing is hidden below the current message.
        assert path[-1]["id"] not in by_parent


@pytest.fixture
def tree_models(user, upstream):  # noqa: F811
    plan, _ = Plan.objects.get_or_create(slug="roomy", defaults={"name": "Roomy", "daily_message_limit": 10_000})
    Plan.objects.filter(pk=plan.pk).update(max_concurrent_generations=2, daily_message_limit=10_000)
    UserSettings.objects.filter(user=user).update(plan=plan)
    for mode in MODES.values():
        text_model(upstream, mode, slug=mode.replace(":", "-").replace(".", "-"), max_output_tokens=256)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same examples on every run (CI); no example database either
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=st.lists(steps, min_size=2, max_size=6))
def test_no_sequence_of_operations_loses_a_message_or_sends_a_wrong_history(
    user_client,
    user,
    upstream,  # noqa: F811
    tree_models,
    script,
):
    chat = Chat(user_client, user, upstream)
    chat.check()
    for step in [*OPENING, *script]:
        chat.run(step)
        chat.check()
