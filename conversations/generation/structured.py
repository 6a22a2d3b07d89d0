"""Structured output kept to its word: a reply asked for as JSON (``response_format``) that is not
JSON, or (``strict``) does not match its schema, is an error, never a complete reply of prose.

A reply cut at the length limit is left as it is ("length" says why it does not parse, as OpenAI's
API leaves it), and so is one that calls tools instead of answering.
"""

import json

import jsonschema
from django.utils.translation import gettext as _

from ..llm import ProviderError


def output_problem(
    response_format: dict | None, text: str, *, finish_reason: str, tool_calls: bool = False
) -> ProviderError | None:
    """Why ``text`` breaks ``response_format``, or None. A reply that called tools answers with
    the calls (some upstreams end it "stop"), not with the JSON. Costly for a large schema or text
    (a schema's ``pattern`` runs on the reply): the runner calls it off the event loop."""
    if not response_format or finish_reason in ("length", "tool_calls") or tool_calls:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return ProviderError(
            _("The model's reply is not the JSON asked for (response_format)."), code="invalid_structured_output"
        )
    spec = response_format.get("json_schema") or {}
    if response_format["type"] != "json_schema" or not spec.get("strict"):
        return None
    schema = spec.get("schema") or {}
    error = jsonschema.exceptions.best_match(jsonschema.validators.validator_for(schema)(schema).iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    return ProviderError(
        _("The model's reply does not match the JSON schema %(name)s at %(where)s: %(problem)s")
        % {"name": spec.get("name", ""), "where": where, "problem": error.message[:300]},
        code="invalid_structured_output",
    )


def _refs(value) -> list[str]:
    if isinstance(value, dict):
        own = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return own + [ref for item in value.values() for ref in _refs(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _refs(item)]
    return []


def schema_problem(schema: dict) -> str | None:
    """Why ``schema`` is not a JSON Schema this server can apply, or None (checked when the request
    comes in, so a reply is never made for a schema that cannot judge it): its own meta-schema,
    and every ``$ref`` resolved within the schema (none is fetched from anywhere)."""
    if "$schema" in schema and not isinstance(schema["$schema"], str):
        return "$schema must be a string"
    try:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = cls(schema)
    except jsonschema.exceptions.SchemaError as exc:
        return exc.message[:300]
    except Exception as exc:  # noqa: BLE001 - whatever the library cannot read is a bad schema
        return str(exc)[:300] or exc.__class__.__name__
    for ref in _refs(schema):
        if not ref.startswith("#"):
            return f"$ref {ref[:100]} is not within the schema (only #/... references are followed)"
        try:
            validator._resolver.lookup(ref)  # referencing's resolver: no network, only the schema
        except Exception:  # noqa: BLE001 - an unresolvable reference of any kind
            return f"$ref {ref[:100]} cannot be resolved"
    return None
