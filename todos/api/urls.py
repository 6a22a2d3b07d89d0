from django.urls import path

from . import views

urlpatterns = [
    path("todos", views.TodoListView.as_view(), name="todos"),
    path("todos/search", views.TodoSearchView.as_view(), name="todos-search"),
    path("todos/<int:pk>", views.TodoDetailView.as_view(), name="todo-detail"),
]
