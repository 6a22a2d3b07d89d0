"""Generating replies, split by job:

- ``scheduling``: where a reply's task runs, the per-loop supervisor (stop flags, checkpoints),
  stop requests;
- ``runner``: running one reply (provider deltas into its event log, the final save);
- ``grounding``: what a reply is built from beyond the conversation's text (the passages
  retrieved from its files and collector items, numbered, as its sources; images for a vision
  model), and the wait for files still being read;
- ``rows``: every database write of a reply being generated;
- ``reaping``: ending replies whose worker is gone.

Titles live in ``conversations.titles``; the event log in ``conversations.streaming.eventlog``.
"""

from .reaping import reap_periodically, reap_stale, reap_stale_sync
from .scheduling import (
    ensure_pipeline_ready,
    remember_server_loop,
    request_stop,
    start_generation,
    stop_key,
)

__all__ = [
    "ensure_pipeline_ready",
    "reap_periodically",
    "reap_stale",
    "reap_stale_sync",
    "remember_server_loop",
    "request_stop",
    "start_generation",
    "stop_key",
]
