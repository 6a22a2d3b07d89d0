from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from . import surface, views
from .schema import ChatCompletionsDoc, EmbeddingsDoc, ModelDoc, ModelsDoc

# Async views (``views.py``, ``surface.py``), wrapped in documentation shells so the OpenAPI
# document lists them. Each path is also taken with a trailing slash (the bare views: listed
# once), and every other path under /v1 is OpenAI's 404 naming the ones here. No CSRF: bearer
# credentials come in a header, never a cookie.
urlpatterns = [
    path("models", ModelsDoc.as_view(), name="openai-models"),
    path("models/", csrf_exempt(surface.models_view)),
    path("models/<str:model>", ModelDoc.as_view(), name="openai-model"),
    # An embedding model configured upstream may have a slash in its name (org/model).
    re_path(r"^models/(?P<model>.+?)/?$", csrf_exempt(surface.model_view)),
    path("chat/completions", ChatCompletionsDoc.as_view(), name="openai-chat-completions"),
    path("chat/completions/", csrf_exempt(views.chat_completions_view)),
    path("embeddings", EmbeddingsDoc.as_view(), name="openai-embeddings"),
    path("embeddings/", csrf_exempt(surface.embeddings_view)),
    re_path(r"", csrf_exempt(surface.not_found_view)),
]
