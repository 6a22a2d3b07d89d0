"""The events of a reply, as every client sees them (SSE, WebSocket, the event log).

One definition per payload: the generator builds these, the log stores them, the listeners send
them. ``Event.id`` is the event's number within its reply: it increases by one per event and never
goes back, even across a crash (see ``conversations.generation.rows`` for the reserve that
guarantees it). Clients see ``<message id>:<number>`` (``Event.public_id``), unique across the
replies of a conversation's branches, so a ``Last-Event-ID`` of one reply is never read as another's.
"""

import enum
import json
from dataclasses import asdict, dataclass, field

# The largest event id a client may say it has (SSE's Last-Event-ID, the WebSocket's last_event_id),
# far beyond any reply's count of events: ``parse_last_event_id`` refuses more, the API schema says so.
LAST_EVENT_ID_MAX = 10**9


# The first event of a send's own stream (``POST .../messages`` with ``Accept: text/event-stream``):
# the messages just made, id ``<reply id>:0``. Not a reply's event: no log holds it.
CREATED_EVENT = "message.created"


class EventName(enum.StrEnum):
    START = "message.start"
    # What the reply is based on (numbered passages of files and collector items), before its
    # first delta; only when there are any.
    SOURCES = "sources"
    DELTA = "delta"
    # What only an OpenAI-compatible request asks for, published before ``message.done``: the tool
    # calls the model made (whole), and the tokens' log probabilities.
    TOOL_CALLS = "tool_calls"
    LOGPROBS = "logprobs"
    # A tool the server runs for an app reply (tools in the chat): when it starts, when it ends.
    TOOL_CALL = "tool.call"
    TOOL_RESULT = "tool.result"
    # Something the reader should know about how the reply is made (a tool server down...).
    NOTICE = "notice"
    ERROR = "error"
    DONE = "message.done"
    # Not stored in a log: made for a client that joins late or whose log is gone.
    SNAPSHOT = "snapshot"


@dataclass(frozen=True, slots=True)
class Start:
    message_id: str
    model: str


@dataclass(frozen=True, slots=True)
class Sources:
    """``sources``: ``[{n, kind: "file" | "item", id, title, snippet, page}]``, as the reply's
    ``Message.sources``; a reply's text cites them as ``[n]``."""

    message_id: str
    sources: list[dict]


@dataclass(frozen=True, slots=True)
class Delta:
    message_id: str
    text: str


@dataclass(frozen=True, slots=True)
class ToolCalls:
    """``tool_calls``: ``[{id, type: "function", function: {name, arguments}}]`` as OpenAI writes them."""

    message_id: str
    tool_calls: list[dict]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """``tool.call``: a call the server starts; ``offset`` is the length of the reply's text so far
    (where a client shows it)."""

    message_id: str
    id: str
    server: str
    name: str
    arguments: dict | str
    offset: int


@dataclass(frozen=True, slots=True)
class ToolResult:
    """``tool.result``: how the call ``id`` ended (``status`` ok, error, timeout, refused...)."""

    message_id: str
    id: str
    status: str
    result: str | None
    error: str
    truncated: bool
    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class Notice:
    message_id: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Logprobs:
    """``logprobs``: OpenAI's ``logprobs.content`` entries of every token of the reply, in order."""

    message_id: str
    content: list[dict]


@dataclass(frozen=True, slots=True)
class Error:
    message_id: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class TokenUsage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class Done:
    message_id: str
    status: str
    usage: TokenUsage
    # Why the model stopped ("stop", "length"), when the upstream said; blank otherwise.
    finish_reason: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole text as of event ``seq``: a client replaces what it shows with it (and its
    sources, when a ``sources`` event came before ``seq``)."""

    message_id: str
    text: str
    seq: int
    sources: list[dict] = field(default_factory=list)
    # The calls the server ran so far (as ``Message.tool_calls``) and the notices.
    tool_calls: list[dict] = field(default_factory=list)
    notices: list[dict] = field(default_factory=list)


PAYLOADS = {
    EventName.START: Start,
    EventName.SOURCES: Sources,
    EventName.DELTA: Delta,
    EventName.TOOL_CALLS: ToolCalls,
    EventName.LOGPROBS: Logprobs,
    EventName.TOOL_CALL: ToolCall,
    EventName.TOOL_RESULT: ToolResult,
    EventName.NOTICE: Notice,
    EventName.ERROR: Error,
    EventName.DONE: Done,
    EventName.SNAPSHOT: Snapshot,
}


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(slots=True)
class Event:
    id: int
    name: EventName
    data: Start | Sources | Delta | ToolCalls | Logprobs | ToolCall | ToolResult | Notice | Error | Done | Snapshot
    # The encoded data, made once however many clients receive the event.
    _json: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.name is EventName.DONE

    def data_dict(self) -> dict:
        return asdict(self.data)

    def data_json(self) -> str:
        if self._json is None:
            data = self.data
            if self.name is EventName.DELTA:  # most events: skip asdict's deep copy
                text = json.dumps(data.text, ensure_ascii=False)
                self._json = f'{{"message_id":"{data.message_id}","text":{text}}}'
            else:
                self._json = _compact(self.data_dict())
        return self._json

    @property
    def public_id(self) -> str:
        """The id clients see and send back: ``<message id>:<number>``."""
        return f"{self.data.message_id}:{self.id}"

    def sse(self) -> bytes:
        return f"id: {self.public_id}\nevent: {self.name.value}\ndata: {self.data_json()}\n\n".encode()

    def ws(self) -> str:
        """The WebSocket's JSON text of the event."""
        return f'{{"event":"{self.name.value}","id":"{self.public_id}","data":{self.data_json()}}}'

    def wire(self) -> str:
        """One line for the shared log and the channel layer: ``[id, name, data]``."""
        return f'[{self.id},"{self.name.value}",{self.data_json()}]'

    @classmethod
    def from_wire(cls, raw: str | bytes) -> "Event":
        event_id, name, data = json.loads(raw)
        name = EventName(name)
        if name is EventName.DONE:
            data = {**data, "usage": TokenUsage(**data["usage"])}
        return cls(event_id, name, PAYLOADS[name](**data))
