"""A small Server-Sent Events reader over httpx, for the streaming tests and the benchmark."""

import json
from dataclasses import dataclass


@dataclass
class SSEEvent:
    name: str
    id: int | None
    data: dict


def iter_events(response):
    """Parse events from an ``httpx`` streaming response (comments and ``retry:`` skipped)."""
    name, event_id, data = "message", None, []
    for line in response.iter_lines():
        if line == "":
            if data:
                yield SSEEvent(name, event_id, json.loads("\n".join(data)))
            name, event_id, data = "message", None, []
        elif line.startswith(":") or line.startswith("retry:"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "id":
                event_id = int(value)
            elif field == "data":
                data.append(value)


async def aiter_events(response):
    name, event_id, data = "message", None, []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield SSEEvent(name, event_id, json.loads("\n".join(data)))
            name, event_id, data = "message", None, []
        elif line.startswith(":") or line.startswith("retry:"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "id":
                event_id = int(value)
            elif field == "data":
                data.append(value)
