"""Structured output kept to its word: a reply asked for as JSON (``response_format``) that is not
JSON, or (``strict``) does not match its schema, is an error, never a complete reply of prose.

A reply cut at the length limit is left as it is ("length" says why it does not parse, as OpenAI's
API leaves it), and so is one that calls tools instead of answering.
"""

import json

import jsonschema
from django.utils.translation import gettext as _

from ..llm import ProviderError


def output_problem(response_format: dict | None, text: str, *, finish_reason: str) -> ProviderError | None:
    """Why ``text`` breaks ``response_format``, or None."""
    if not response_format or finish_reason in ("length", "tool_calls"):
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


def schema_problem(schema: dict) -> str | None:
    """Why ``schema`` is not a JSON Schema, or None (checked when the request comes in)."""
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        return exc.message[:300]
    return None
