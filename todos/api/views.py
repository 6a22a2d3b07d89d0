"""Thin views: validate input, call a selector or service, serialize."""

from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.viewsets import INT_PATTERN

from .. import selectors, services
from . import schema
from . import serializers as s


@schema.TODOS
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
