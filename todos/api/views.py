"""Thin views: validate input, call a selector or service, serialize."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.openapi import INVALID_INPUT, NOT_FOUND
from core.viewsets import INT_PATTERN

from .. import selectors, services
from . import serializers as s

_FIELD_ERRORS = INVALID_INPUT
_WRITE = {"request": s.TodoInputSerializer, "responses": {200: s.TodoSerializer, 400: _FIELD_ERRORS, 404: NOT_FOUND}}


@extend_schema(tags=["todos"])
@extend_schema_view(
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
class TodoViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.TodoSerializer
    lookup_value_regex = INT_PATTERN

    def get_queryset(self):
        if self.action in ("list", "search"):
            # A plain dict, not the QueryDict: a missing `complete` must mean "any", not False.
            filters = s.TodoFilterSerializer(data=self.request.query_params.dict())
            filters.is_valid(raise_exception=True)
            return selectors.todo_list(user=self.request.user, **filters.validated_data)
        return selectors.todo_list(user=self.request.user)

    @action(detail=False, methods=["get"])
    def search(self, request):
        return self.list(request)

    def create(self, request):
        data = s.TodoInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        todo = services.todo_create(user=request.user, **data.validated_data)
        return Response(s.TodoSerializer(todo).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk):
        return Response(s.TodoSerializer(self.get_object()).data)

    def update(self, request, pk, partial: bool = False):
        todo = self.get_object()
        data = s.TodoInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        todo = services.todo_update(todo=todo, **data.validated_data)
        return Response(s.TodoSerializer(todo).data)

    def partial_update(self, request, pk):
        return self.update(request, pk, partial=True)

    def destroy(self, request, pk):
        services.todo_delete(todo=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
