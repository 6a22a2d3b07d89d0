from django.urls import path

from .schema import ChatCompletionsDoc, ModelsDoc

# Async views (``views.py``), wrapped in documentation shells so the OpenAPI document lists them.
urlpatterns = [
    path("models", ModelsDoc.as_view(), name="openai-models"),
    path("chat/completions", ChatCompletionsDoc.as_view(), name="openai-chat-completions"),
]
