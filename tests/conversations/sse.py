"""A small Server-Sent Events reader over httpx, for the streaming tests and the benchmark."""

import json
from dataclasses import dataclass


@dataclass
class SSEEvent:
    name: str
    id: int | None
    data: dict


class _Parser:
    """One SSE frame at a time: ``feed`` a line, get an event back at each blank line."""

    def __init__(self):
        self.name, self.event_id, self.data = "message", None, []

    def feed(self, line: str) -> "SSEEvent | None":
        if line == "":
            event = SSEEvent(self.name, self.event_id, json.loads("\n".join(self.data))) if self.data else None
            self.name, self.event_id, self.data = "message", None, []
            return event
        if line.startswith(":") or line.startswith("retry:"):
            return None  # comments (keep-alives) and the reconnect hint
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            self.name = value
        elif field == "id":
            self.event_id = int(value)
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
