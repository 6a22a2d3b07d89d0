"""A tool server's request headers: written as ``Name: value`` or ``Name: value-from-env:VAR``.

A secret (a bearer token, an API key) is never stored: the row keeps the variable's name and the
value is read from the environment each time the server is called. A variable is allowed by the
same rule as a model's API key variable (``core.api_key_env``: never one of the server's own
settings), with its own list of names (``TOOLS["HEADER_ENV_ALLOWED"]``).
"""

import os
import re

from django.conf import settings
from django.utils.translation import gettext as _

from core.api_key_env import env_name_problem

FROM_ENV = "value-from-env:"
HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")
# Set by the client itself: a server row may not change how the MCP request is framed.
RESERVED = {"host", "content-length", "content-type", "accept", "connection", "transfer-encoding", "mcp-session-id"}
VALUE_MAX_CHARS = 2000
# Headers whose value is a credential: only ever read from the environment.
_SECRET_NAME = re.compile(r"auth|cookie|key|token|secret|password|credential", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def header_parse(text: str) -> dict:
    """``"Name: value"`` or ``"Name: value-from-env:VAR"`` as a row's entry; ValueError naming the problem."""
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name:
        raise ValueError(_('Write a header as "Name: value" or "Name: value-from-env:VARIABLE".'))
    if value.startswith(FROM_ENV):
        entry = {"name": name, "env": value[len(FROM_ENV) :].strip()}
    else:
        entry = {"name": name, "value": value}
    problem = headers_problem([entry])
    if problem:
        raise ValueError(problem)
    return entry


def headers_problem(headers) -> str | None:
    """Why ``headers`` (a row's list) cannot be saved, or None."""
    if not isinstance(headers, list):
        return _("Headers must be a list.")
    seen = set()
    for entry in headers:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            return _('Each header is {"name": ..., "value": ...} or {"name": ..., "env": ...}.')
        name = entry["name"]
        if not HEADER_NAME.fullmatch(name):
            return _("%(name)s is not a header name.") % {"name": name[:100]}
        if name.lower() in RESERVED or name.lower() in seen:
            return _("The header %(name)s cannot be set here.") % {"name": name}
        seen.add(name.lower())
        if set(entry) == {"name", "env"} and isinstance(entry["env"], str):
            if not entry["env"]:
                return _("Name the environment variable after value-from-env:.")
            problem = env_name_problem(entry["env"], allowed=allowed_patterns(), setting="TOOL_HEADER_ENV_ALLOWED")
            if problem:
                return problem
        elif set(entry) == {"name", "value"} and isinstance(entry["value"], str):
            if len(entry["value"]) > VALUE_MAX_CHARS or _CONTROL.search(entry["value"]):
                return _("The value of %(name)s is too long or spans lines.") % {"name": name}
            if _SECRET_NAME.search(name):
                # A credential typed as a literal would be stored, shown and audited.
                return _(
                    '%(name)s carries a secret: give it as "%(name)s: value-from-env:VARIABLE", never the value.'
                ) % {"name": name}
        else:
            return _('Each header is {"name": ..., "value": ...} or {"name": ..., "env": ...}.')
    return None


def allowed_patterns() -> tuple[str, ...]:
    return tuple(settings.TOOLS["HEADER_ENV_ALLOWED"])


def headers_resolve(headers: list[dict]) -> dict[str, str]:
    """The headers to send now. A variable that is unset (or no longer allowed) is a ValueError
    naming it: the server is then reported down, never called without its credentials."""
    if headers_problem(headers):
        raise ValueError(_("This server's headers are not valid: an operator must correct them."))
    resolved = {}
    for entry in headers:
        if "env" in entry:
            # A secret file's trailing newline is not part of the value (and an HTTP library's
            # refusal of it would quote the value in its error).
            value = (os.environ.get(entry["env"]) or "").strip()
            if not value:
                raise ValueError(_("The environment variable %(name)s is not set.") % {"name": entry["env"]})
            if _CONTROL.search(value):
                raise ValueError(
                    _("The environment variable %(name)s holds characters a header cannot carry.")
                    % {"name": entry["env"]}
                )
            resolved[entry["name"]] = value
        else:
            resolved[entry["name"]] = entry["value"]
    return resolved


def headers_shown(headers: list[dict]) -> list[str]:
    """How the admin and the command show a row's headers: a variable's name, never its value."""
    return [
        f"{entry['name']}: {FROM_ENV}{entry['env']}" if "env" in entry else f"{entry['name']}: {entry.get('value', '')}"
        for entry in headers or []
        if isinstance(entry, dict)
    ]
