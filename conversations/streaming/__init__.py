"""Delivering a reply's events to its clients, apart from generating it (``generation/``):

- ``events``: the typed events (``message.start``, ``delta``, ``message.done``, ``error``,
  ``snapshot``) and their wire forms;
- ``eventlog``: each reply's append-only log, in the process and (with Redis) shared;
- ``listener``: following a reply for one client from its ``Last-Event-ID``, and waiting for a
  whole reply (``?wait=true``, ``/v1``).
"""
