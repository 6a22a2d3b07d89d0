"""Shared pieces of the OpenAPI document, and the schema class that keeps it truthful.

``ApiAutoSchema`` adds to every operation the errors the framework itself can answer, so no view
has to remember them: 400 for input it validates, 401 where credentials are required, 403 for staff
operations, 404 where an id or a page is looked up, 415 for bodies of another media type, 429 where
a throttle applies. Each documented error has a body (``{detail, code}``, or field messages for 400).
"""

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import DatabaseError
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.permissions import IsAdminUser


class ErrorSerializer(serializers.Serializer):
    """The error shape of every endpoint (core.exceptions): a message and a stable code."""

    detail = serializers.CharField()
    code = serializers.CharField()


INVALID_INPUT = OpenApiResponse(
    OpenApiTypes.OBJECT,
    "Invalid input: `{field: [messages]}` for the fields at fault, or `{detail, code}` when the body as a "
    "whole cannot be read (malformed JSON, nested too deeply, too large).",
)
NOT_FOUND = OpenApiResponse(ErrorSerializer, "Not found (also for anything that is not yours)")
CONFLICT = OpenApiResponse(ErrorSerializer, "Not possible in the current state of things (the `code` says why).")
_NOT_AUTHENTICATED = OpenApiResponse(
    ErrorSerializer,
    "Credentials are missing, invalid or expired, or their session was signed out "
    "(`not_authenticated`, `token_not_valid`, `authentication_failed`).",
)
_STAFF_ONLY = OpenApiResponse(ErrorSerializer, "Staff only (`permission_denied`).")
_PAGE_NOT_FOUND = OpenApiResponse(ErrorSerializer, "No such page (or cursor).")
_UNSUPPORTED_MEDIA = OpenApiResponse(ErrorSerializer, "The body's media type is not accepted here.")
_THROTTLED = OpenApiResponse(
    ErrorSerializer, "Too many requests (`throttled`); the `Retry-After` header says how many seconds to wait."
)
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}}


_View = TypeVar("_View", bound=type)


def view_schema(
    *, tags: list[str], schema_class: "type[ApiAutoSchema] | None" = None, **operations: Any
) -> Callable[[_View], _View]:
    """A view's whole OpenAPI declaration as one class decorator, kept in ``<app>/api/schema.py``
    so the view module reads as logic: its ``tags``, and for each action (or HTTP method of an
    APIView) an ``extend_schema(...)``, or a list of them scoped by ``methods`` (an unscoped one
    would override the others). Declare only what ``ApiAutoSchema`` cannot tell: the framework's
    own errors (400, 401, 403, 404, 415, 429) it adds by itself; a 404 with words of its own
    (what "not found" covers here) is declared. ``schema_class``: a subclass of ``ApiAutoSchema``
    for a view the document must describe otherwise (set first: the declarations build on it)."""

    def decorate(view: _View) -> _View:
        if schema_class is not None:
            view.schema = schema_class()  # type: ignore[attr-defined]
        return extend_schema(tags=tags)(extend_schema_view(**operations)(view))

    return decorate


# What DRF's CharField refuses, said in the schema: a NUL character anywhere (PostgreSQL cannot
# store it), and, unless blank is allowed, a value that is empty once surrounding whitespace is
# trimmed. Python's ``\s`` is ``str.isspace``, the rule ``str.strip`` (DRF's trimming) follows.
# (drf-spectacular adds the blank string as a ``oneOf`` branch of its own when blank is allowed,
# so that pattern must not match it too.)
NO_NUL_PATTERN = r"^[^\x00]+$"
NOT_BLANK_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"


class ApiAutoSchema(AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and type(field) is serializers.CharField and schema.get("type") == "string":
            if not {"pattern", "format", "enum"} & schema.keys():
                schema["pattern"] = NO_NUL_PATTERN if field.allow_blank else NOT_BLANK_PATTERN
        return schema

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        self._add_framework_errors(operation)
        self._split_security_alternatives(operation)
        return operation

    def _add_framework_errors(self, operation: dict) -> None:
        responses = operation["responses"]
        has_body = "requestBody" in operation
        has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
        security = operation.get("security") or []
        needs_credentials = bool(security) and {} not in security
        paginator = self._get_paginator() if self._is_list_view() else None
        errors = {
            "400": (has_body or has_query, INVALID_INPUT),
            "401": (needs_credentials, _NOT_AUTHENTICATED),
            "403": (needs_credentials and self._is_staff_only(), _STAFF_ONLY),
            "404": ("{" in self.path, NOT_FOUND),
            "415": (has_body, _UNSUPPORTED_MEDIA),
            "429": (bool(self.view.get_throttles()), _THROTTLED),
        }
        if isinstance(paginator, PageNumberPagination | CursorPagination):
            errors["404"] = (True, errors["404"][1] if "{" in self.path else _PAGE_NOT_FOUND)
        # What a view's own rules may refuse on writes (``refusals = {403: OpenApiResponse(...)}``).
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            for code, response in getattr(self.view, "refusals", {}).items():
                errors[str(code)] = (True, response)
        for code, (applies, response) in errors.items():
            declared = responses.get(code)
            if (applies and declared is None) or (declared is not None and "content" not in declared):
                # Undeclared, or declared without a body: every error answers JSON.
                description = declared["description"] if declared and declared.get("description") else None
                responses[code] = self._get_response_for_code(response, code)
                if description:
                    responses[code]["description"] = description
        if "429" in responses:
            responses["429"].setdefault("headers", {}).update(_RETRY_AFTER)
        operation["responses"] = dict(sorted(responses.items()))

    def _is_staff_only(self) -> bool:
        return any(isinstance(permission, IsAdminUser) for permission in self.view.get_permissions())

    @staticmethod
    def _split_security_alternatives(operation: dict) -> None:
        """One requirement naming several schemes means "all of them"; ours are alternatives
        (a bearer token OR the login form), so each gets a requirement of its own."""
        if "security" not in operation:
            return
        alternatives: list[dict] = []
        for requirement in operation["security"]:
            parts = [{name: scopes} for name, scopes in requirement.items()] or [{}]
            alternatives.extend(part for part in parts if part not in alternatives)
        operation["security"] = alternatives


class CatalogSlugField(serializers.SlugField):
    """The slug of a row an operator manages (a model, a plan). The schema lists the slugs a
    request may name right now, read when the document is generated, so a client (or a contract
    test) can tell a valid name from an unknown one; the service still checks it."""

    def __init__(self, *, slugs: Callable[[], Iterable[str]], **kwargs):
        self.slugs = slugs
        super().__init__(**kwargs)


class CatalogSlugFieldSchema(OpenApiSerializerFieldExtension):
    target_class = CatalogSlugField

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema = {"type": "string", "maxLength": field.max_length} if field.max_length else {"type": "string"}
        if direction != "request":
            return schema
        try:
            slugs = sorted(field.slugs())
        except DatabaseError:  # the document generated before the database exists (CI's schema check)
            return schema
        return {"type": "string", "enum": [*slugs, None] if field.allow_null else slugs}
