"""The OpenAPI description of the todos API (``views.py``): one declaration per view."""

from drf_spectacular.utils import extend_schema

from core.openapi import INVALID_INPUT, NOT_FOUND, view_schema

from . import serializers as s

_FIELD_ERRORS = INVALID_INPUT
_WRITE = {"request": s.TodoInputSerializer, "responses": {200: s.TodoSerializer, 400: _FIELD_ERRORS, 404: NOT_FOUND}}

TODOS = view_schema(
    tags=["todos"],
    list=extend_schema(
        summary="List your todos",
        parameters=[s.TodoFilterSerializer],
        responses={200: s.TodoSerializer(many=True), 400: _FIELD_ERRORS},
    ),
    create=extend_schema(
        summary="Create a todo",
        request=s.TodoInputSerializer,
        responses={201: s.TodoSerializer, 400: _FIELD_ERRORS},
    ),
    retrieve=extend_schema(summary="Get one of your todos", responses={200: s.TodoSerializer, 404: NOT_FOUND}),
    update=extend_schema(summary="Replace a todo", **_WRITE),
    partial_update=extend_schema(summary="Change some fields of a todo", **_WRITE),
    destroy=extend_schema(summary="Delete a todo", responses={204: None, 404: NOT_FOUND}),
    search=extend_schema(
        summary="Search your todos",
        operation_id="todos_search",
        parameters=[s.TodoFilterSerializer],
        responses={200: s.TodoSerializer(many=True), 400: _FIELD_ERRORS},
        description="Every filter is optional; none returns all of the caller's todos.",
    ),
)
