"""A small Server-Sent Events reader over httpx, for the streaming tests and the benchmark."""

import json
from dataclasses import dataclass


@dataclass
class SSEEvent:
    name: str
    id: int | None  # the event's number within its reply
    data: dict
    # The id as sent: "<message id>:<number>" (what Last-Event-ID sends back).
    raw_id: str | None = None

    @property
    def message_id(self) -> str | None:
        return self.raw_id.rpartition(":")[0] or None if self.raw_id else None


class _Parser:
    """One SSE frame at a time: ``feed`` a line, get an event back at each blank line."""

    def __init__(self):
        self.name, self.event_id, self.data = "message", None, []
        self.raw_id = None

    def feed(self, line: str) -> "SSEEvent | None":
        if line == "":
            data = json.loads("\n".join(self.data)) if self.data else None
            event = SSEEvent(self.name, self.event_id, data, self.raw_id) if self.data else None
            self.name, self.event_id, self.data, self.raw_id = "message", None, [], None
            return event
        if line.startswith(":") or line.startswith("retry:"):
            return None  # comments (keep-alives) and the reconnect hint
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            self.name = value
        elif field == "id":
            self.raw_id = value
            self.event_id = int(value.rpartition(":")[2])
        elif field == "data":
            self.data.append(value)
        return None


def iter_events(response):
    """Parse events from an ``httpx`` streaming response (comments and ``retry:`` skipped)."""
    parser = _Parser()
    for line in response.iter_lines():
        if (event := parser.feed(line)) is not None:
            yield event


async def aiter_events(response):
    parser = _Parser()
    async for line in response.aiter_lines():
        if (event := parser.feed(line)) is not None:
            yield event
