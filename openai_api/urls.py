from django.urls import path

from . import views

urlpatterns = [
    path("models", views.models_view, name="openai-models"),
    path("chat/completions", views.chat_completions_view, name="openai-chat-completions"),
]
