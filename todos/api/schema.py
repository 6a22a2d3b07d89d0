"""The OpenAPI description of the todos API (``views.py``): one declaration per view."""

from drf_spectacular.utils import extend_schema

from core.openapi import view_schema

from . import serializers as s

_WRITE = {"request": s.TodoInputSerializer, "responses": {200: s.TodoSerializer}}

TODOS = view_schema(
    tags=["todos"],
    list=extend_schema(
        summary="List your todos",
        parameters=[s.TodoFilterSerializer],
        responses={200: s.TodoSerializer(many=True)},
    ),
    create=extend_schema(summary="Create a todo", request=s.TodoInputSerializer, responses={201: s.TodoSerializer}),
    retrieve=extend_schema(summary="Get one of your todos", responses={200: s.TodoSerializer}),
    update=extend_schema(summary="Replace a todo", **_WRITE),
    partial_update=extend_schema(summary="Change some fields of a todo", **_WRITE),
    destroy=extend_schema(summary="Delete a todo", responses={204: None}),
    search=extend_schema(
        summary="Search your todos",
        operation_id="todos_search",
        parameters=[s.TodoFilterSerializer],
        responses={200: s.TodoSerializer(many=True)},
        description="Every filter is optional; none returns all of the caller's todos.",
    ),
)
