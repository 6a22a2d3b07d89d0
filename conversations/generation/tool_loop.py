"""Tools in the chat: the server runs the tools a reply's model calls, and feeds the results back.

For an app reply whose model has the ``tools`` capability and whose chat enabled tools
(``Conversation.tools``), the runner offers the model the chat's functions (``tools.toolbox``).
Each round the model asks for calls, this module runs them one after the other (publishing
``tool.call`` when one starts and ``tool.result`` when it ends), and the runner asks the model
again with the results as OpenAI ``tool`` turns, until it answers in text. After
``TOOLS["ROUNDS_MAX"]`` rounds it is asked once more with ``tool_choice: "none"``: it must answer.

What is kept: each call in ``Message.tool_calls`` (OpenAI's ``{id, type, function}`` plus what a
reader sees: server, name, arguments, status, result, offset...), saved when the call starts and
when it ends, so a crash leaves a call marked ``running`` that the reaper marks ``interrupted``:
a reply is never run again, so no call is run twice. Web search results become the reply's
sources (``kind: "web"``), numbered after its files' passages. Every call is counted against the
plan's daily limit (``tools.ToolCall``).

A later turn's history carries a reply's calls as OpenAI turns (``history_expand``) when tools are
offered again; otherwise only its text.
"""

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext as _

from core import metrics
from core.db import background_db_sync_to_async
from core.tokens import estimate_tokens
from tools import services as tool_services
from tools.models import CallStatus
from tools.selectors import reply_servers
from tools.toolbox import Toolbox, arguments_parse, run, toolbox_open, web_results_text

from ..capabilities import TOOLS, has_capability
from ..streaming.events import EventName, Notice, Sources, ToolCall, ToolResult
from . import rows

if TYPE_CHECKING:
    from tools.mcp_client import ServerSpec

# A result is cut so every call of a round still fits what is left of the model's window
# (about 3 characters a token, conservatively), never below this.
RESULT_MIN_CHARS = 500
# The keys of a turn an upstream is sent (the history's turns carry ``tool_calls`` entries with
# what only the reader needs).
OPENAI_CALL_KEYS = ("id", "type", "function")


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the reply may call, read with the database (``reply_tools``)."""

    user_id: int
    specs: list["ServerSpec"]
    web_search: bool
    missing: list[str]  # names the chat enabled that are no longer available to its owner


def reply_tools(*, claimed) -> Prepared | None:
    """The tools of an app reply, or None when it has none (an API request, a model without the
    ``tools`` capability, a chat without tools)."""
    conversation = claimed.conversation
    if (claimed.message.generation_options or {}).get("messages") or not conversation.tools:
        return None
    if not has_capability(claimed.model, TOOLS):
        return None
    specs, web_search = reply_servers(user=conversation.owner, names=conversation.tools)
    found = {spec.name for spec in specs} | ({"web_search"} if web_search else set())
    missing = [name for name in conversation.tools if name not in found]
    return Prepared(conversation.owner_id, specs, web_search, missing)


def _openai_call(entry: dict) -> dict:
    return {key: entry[key] for key in OPENAI_CALL_KEYS}


def _tool_turn(entry: dict) -> dict:
    if entry.get("status") == CallStatus.OK:
        content = entry.get("result") or ""
    else:
        content = f"Error: {entry.get('error') or entry.get('status') or 'the call did not finish'}"
    return {"role": "tool", "tool_call_id": entry["id"], "content": content}


def server_ran(calls) -> list[dict]:
    """The calls the server ran (an app reply's), not an API request's own."""
    return [call for call in calls or [] if isinstance(call, dict) and "status" in call and "id" in call]


def history_expand(messages: list[dict], *, with_tools: bool) -> list[dict]:
    """``messages`` as an upstream takes them: an assistant turn that called tools becomes, when
    tools are offered, its text up to each round of calls, the calls, their results as ``tool``
    turns, then the rest of its text; otherwise its text alone."""
    out = []
    for message in messages:
        calls = server_ran(message.get("tool_calls")) if message.get("role") == "assistant" else []
        if not calls:  # an API request's turns among them: as they came
            out.append(message)
            continue
        if not with_tools:
            out.append({key: value for key, value in message.items() if key != "tool_calls"})
            continue
        content, position = message.get("content") or "", 0
        rounds = itertools.groupby(calls, key=lambda call: min(int(call.get("offset") or 0), len(content)))
        for offset, grouped in rounds:
            group = list(grouped)
            offset = max(offset, position)
            out.append(
                {
                    "role": "assistant",
                    "content": content[position:offset],
                    "tool_calls": [_openai_call(c) for c in group],
                }
            )
            out += [_tool_turn(call) for call in group]
            position = offset
        if content[position:]:
            out.append({"role": "assistant", "content": content[position:]})
    return out


class ReplyTools:
    """The tools of one running reply: what the model is offered, and the calls it made."""

    def __init__(self, *, message_id: str, prepared: Prepared, box: Toolbox, sources: list[dict], publish: Callable):
        self.message_id = message_id
        self.prepared = prepared
        self.box = box
        self.sources = list(sources)
        self.publish = publish
        self.entries: list[dict] = []
        self.notices: list[dict] = []
        self.rounds = 0
        self.limit_reached = False

    # --- what the model is offered -----------------------------------------------------------

    def request(self, upstream: dict) -> dict | None:
        """The request's extra parameters this round: the functions, and ``tool_choice: "none"``
        once the rounds are spent (the model must then answer from what it has)."""
        if not self.box.functions:
            return upstream or None
        extra = {**upstream, "tools": self.box.definitions()}
        if self.rounds >= settings.TOOLS["ROUNDS_MAX"] or self.limit_reached:
            extra["tool_choice"] = "none"
        return extra

    def may_call(self) -> bool:
        return bool(self.box.functions) and self.rounds < settings.TOOLS["ROUNDS_MAX"] and not self.limit_reached

    def notice(self, code: str, message: str) -> None:
        self.notices.append({"code": code, "message": message})
        self.publish(EventName.NOTICE, Notice(self.message_id, code, message))

    # --- a round of calls --------------------------------------------------------------------

    async def run_round(self, calls: list[dict], *, text: str, offset: int, room_tokens: int) -> list[dict]:
        """Run the model's ``calls`` (one round; ``text``: what it wrote this round before them)
        and return the turns that carry them to it."""
        self.rounds += 1
        most = settings.TOOLS["CALLS_PER_ROUND_MAX"]
        cap = max(RESULT_MIN_CHARS, room_tokens * 3 // max(1, min(len(calls), most)))
        for number, call in enumerate(calls):
            entry = self._entry(call, offset)
            self.entries.append(entry)
            if number >= most:
                self._refused(entry, _("Too many calls in one round (at most %(n)d).") % {"n": most})
            else:
                await self._run(entry, cap)
        if self.rounds >= settings.TOOLS["ROUNDS_MAX"] and not self.limit_reached:
            self.notice(
                "tool_rounds_exhausted",
                _("The model used its %(n)d rounds of tool calls; it answered from what they returned.")
                % {"n": self.rounds},
            )
        made = self.entries[-len(calls) :]
        turn = {"role": "assistant", "content": text, "tool_calls": [_openai_call(entry) for entry in made]}
        return [turn, *(_tool_turn(entry) for entry in made)]

    def _entry(self, call: dict, offset: int) -> dict:
        function = self.box.functions.get(call["function"]["name"])
        arguments = arguments_parse(call["function"]["arguments"])
        # Ids unique within the reply: some upstreams number each response's calls from 0 again,
        # and the model, the log's snapshots and clients tell calls apart by id.
        call_id, taken = call["id"] or "call", {entry["id"] for entry in self.entries}
        if call_id in taken:
            call_id = next(f"{call_id}_{n}" for n in itertools.count(2) if f"{call_id}_{n}" not in taken)
        return {
            "id": call_id,
            "type": "function",
            # What goes back to the model: arguments that are not a JSON object are sent as {}
            # (upstreams parse them again, and refuse the whole request when they cannot).
            "function": {
                "name": call["function"]["name"],
                "arguments": call["function"]["arguments"] if arguments is not None else "{}",
            },
            "server": function.server if function else "",
            "name": function.tool if function else call["function"]["name"],
            # Its server's privacy when it ran: a share hides the result even if the server is
            # made public later (sharing.snapshot).
            "private": bool(function and function.spec and function.spec.private),
            # As the model gave them: an object, or (not a JSON object: not run) the raw text.
            "arguments": arguments if arguments is not None else call["function"]["arguments"][:2000],
            "status": CallStatus.RUNNING,
            "result": "",
            "error": "",
            "truncated": False,
            "offset": offset,
            "duration_ms": None,
        }

    def _started(self, entry: dict) -> None:
        self.publish(
            EventName.TOOL_CALL,
            ToolCall(self.message_id, entry["id"], entry["server"], entry["name"], entry["arguments"], entry["offset"]),
        )

    def _ended(self, entry: dict) -> None:
        self.publish(
            EventName.TOOL_RESULT,
            ToolResult(
                self.message_id,
                entry["id"],
                entry["status"],
                entry["result"],
                entry["error"],
                entry["truncated"],
                entry["duration_ms"],
            ),
        )

    def _refused(self, entry: dict, why: str) -> None:
        self._started(entry)
        entry.update(status=CallStatus.REFUSED, error=why)
        self._ended(entry)

    async def _run(self, entry: dict, cap: int) -> None:
        function = self.box.functions.get(entry["function"]["name"])
        if function is None:
            return self._refused(
                entry, _("There is no tool named %(name)s.") % {"name": entry["function"]["name"][:100]}
            )
        if not isinstance(entry["arguments"], dict):
            return self._refused(entry, _("The arguments were not a JSON object."))
        if self.limit_reached:  # said once, with the first call refused
            return self._refused(entry, _("The daily limit of tool calls is reached."))
        record = await background_db_sync_to_async(tool_services.tool_call_begin)(
            user_id=self.prepared.user_id,
            message_id=self.message_id,
            call_id=entry["id"],
            server=function.server,
            tool=function.tool,
        )
        if record is None:
            self.limit_reached = True
            self.notice("tool_limit_reached", _("Your plan's tool calls for today are used up."))
            return self._refused(entry, _("The daily limit of tool calls is reached."))
        self._started(entry)
        await self.save()  # a crash from here on leaves the call "running": the reaper ends it
        started = time.monotonic()
        outcome = await run(function, entry["arguments"])
        text, truncated = outcome.text, outcome.truncated
        if outcome.web_results:
            text, truncated = self._web_sources(outcome.web_results)
        if len(text) > cap:
            text, truncated = text[:cap], True
        entry.update(
            status=outcome.status,
            result=text,
            error=outcome.error,
            truncated=truncated,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        self._ended(entry)
        metrics.tool_called(server=function.server, status=outcome.status)
        if outcome.web_results:  # after the call's end, whole, as ``sources`` always is
            self.publish(EventName.SOURCES, Sources(self.message_id, list(self.sources)))
        await background_db_sync_to_async(tool_services.tool_call_end)(
            call_pk=record.pk, status=outcome.status, duration_ms=entry["duration_ms"]
        )
        await self.save()

    def _web_sources(self, results) -> tuple[str, bool]:
        """A web search's results added to the reply's sources, and the numbered text the model
        cites them by."""
        first = len(self.sources) + 1
        for n, result in enumerate(results, start=first):
            self.sources.append(
                {
                    "n": n,
                    "kind": "web",
                    "id": "",
                    "url": result.url,
                    "title": result.title or result.url,
                    "snippet": result.snippet,
                    "page": None,
                }
            )
        return web_results_text(results, first_n=first)

    # --- the reply's end ---------------------------------------------------------------------

    def end_running(self, status: str, why: str) -> None:
        """Calls still running when the reply ends (stopped, the server shutting down): ended as
        ``status``, their ``tool.result`` published before the reply's last events."""
        for entry in self.entries:
            if entry["status"] == CallStatus.RUNNING:
                entry.update(status=status, error=why)
                self._ended(entry)

    def row_fields(self) -> dict:
        return {"tool_calls": self.entries, "notices": self.notices, "sources": self.sources}

    async def save(self) -> None:
        await background_db_sync_to_async(rows.reply_tools_save)(message_id=self.message_id, **self.row_fields())


def room_tokens(messages: list[dict], *, context_window: int, max_tokens: int) -> int:
    """About how many tokens of the window the next round leaves for results (an estimate)."""
    used = sum(estimate_tokens(str(message.get("content") or "")) + 8 for message in messages)
    return context_window - max_tokens - used


async def reply_tools_open(*, message_id: str, prepared: Prepared, sources: list[dict], publish) -> ReplyTools:
    """List the reply's servers (those down are left out, with a notice) and make its session."""
    box = await toolbox_open(prepared.specs, web_search=prepared.web_search)
    session = ReplyTools(message_id=message_id, prepared=prepared, box=box, sources=sources, publish=publish)
    for server, why in box.unavailable:
        session.notice(
            "tool_server_unavailable",
            _("The tools of %(server)s were left out: the server did not answer (%(why)s).")
            % {"server": server, "why": why[:200]},
        )
    for name in prepared.missing:
        session.notice(
            "tool_server_unavailable", _("The tool %(name)s is no longer available to you.") % {"name": name}
        )
    for server, tools in box.listed.items():
        await background_db_sync_to_async(tool_services.tool_server_listing_save)(server_name=server, tools=tools)
    if session.notices:
        await session.save()
    return session
