from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import ErrorSerializer

from .. import selectors, services
from . import serializers as s

_ERROR = ErrorSerializer
_FIELD_ERRORS = OpenApiResponse(description="Invalid input: {field: [messages]}")


class _FilteredTodoList(generics.ListAPIView):
    serializer_class = s.TodoSerializer

    def get_queryset(self):
        # A plain dict, not the QueryDict: a missing `complete` must mean "any", not False.
        filters = s.TodoFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        return selectors.todo_list(user=self.request.user, **filters.validated_data)


@extend_schema(tags=["todos"])
class TodoListView(_FilteredTodoList):
    @extend_schema(
        parameters=[s.TodoFilterSerializer], responses={200: s.TodoSerializer(many=True), 400: _FIELD_ERRORS}
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=s.TodoInputSerializer, responses={201: s.TodoSerializer, 400: _FIELD_ERRORS})
    def post(self, request):
        data = s.TodoInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        todo = services.todo_create(user=request.user, **data.validated_data)
        return Response(s.TodoSerializer(todo).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["todos"])
class TodoSearchView(_FilteredTodoList):
    @extend_schema(
        operation_id="todos_search",
        parameters=[s.TodoFilterSerializer],
        responses={200: s.TodoSerializer(many=True), 400: _FIELD_ERRORS},
        description="Every filter is optional; none returns all of the caller's todos.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["todos"])
class TodoDetailView(APIView):
    def _todo(self, request, pk):
        return get_object_or_404(selectors.todo_list(user=request.user), pk=pk)

    @extend_schema(responses={200: s.TodoSerializer, 404: _ERROR})
    def get(self, request, pk):
        return Response(s.TodoSerializer(self._todo(request, pk)).data)

    def _write(self, request, pk, partial: bool):
        todo = self._todo(request, pk)
        data = s.TodoInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        todo = services.todo_update(todo=todo, **data.validated_data)
        return Response(s.TodoSerializer(todo).data)

    @extend_schema(request=s.TodoInputSerializer, responses={200: s.TodoSerializer, 400: _FIELD_ERRORS, 404: _ERROR})
    def put(self, request, pk):
        return self._write(request, pk, partial=False)

    @extend_schema(request=s.TodoInputSerializer, responses={200: s.TodoSerializer, 400: _FIELD_ERRORS, 404: _ERROR})
    def patch(self, request, pk):
        return self._write(request, pk, partial=True)

    @extend_schema(responses={204: None, 404: _ERROR})
    def delete(self, request, pk):
        services.todo_delete(todo=self._todo(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
