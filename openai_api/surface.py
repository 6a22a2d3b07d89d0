"""The rest of ``/v1`` beside chat completions: the model list and one model, embeddings, and an
answer in OpenAI's error shape for every other path (naming the paths this server has).

Every path is also taken with a trailing slash (``urls.py``), as clients that join base URLs
carelessly send them. A known path with another method is a 405 with ``Allow``.
"""

from django.http import JsonResponse
from django.utils.translation import gettext as _

from conversations.model_choice import models_usable
from core.db import db_sync_to_async

from . import embeddings, errors
from .formatting import model_list, model_object
from .views import _authenticate, _body, _not_allowed

# What this server answers under /v1, as the catch-all names it.
SUPPORTED = (
    "GET /v1/models",
    "GET /v1/models/{model}",
    "POST /v1/chat/completions",
    "POST /v1/embeddings",
)


def _catalog(user) -> dict:
    embedding = embeddings.embedding_model()
    return model_list(
        list(models_usable(user=user)),
        embedding=embeddings.model_object(embedding) if embedding is not None else None,
    )


async def models_view(request):
    if request.method != "GET":
        return _not_allowed("GET")
    try:
        user, _key = await db_sync_to_async(_authenticate)(request)
    except errors.OpenAIError as exc:
        return exc.response()
    return JsonResponse(await db_sync_to_async(_catalog)(user))


def _model_found(user, model_id: str) -> dict | None:
    model = models_usable(user=user).filter(slug=model_id).first()
    if model is not None:
        return model_object(model)
    embedding = embeddings.embedding_model()
    if embedding is not None and embedding.id == model_id:
        return embeddings.model_object(embedding)
    return None


async def model_view(request, model: str):
    """One model the key's user may use (OpenAI's ``model`` object), else 404 ``model_not_found``."""
    if request.method != "GET":
        return _not_allowed("GET")
    try:
        user, _key = await db_sync_to_async(_authenticate)(request)
    except errors.OpenAIError as exc:
        return exc.response()
    found = await db_sync_to_async(_model_found)(user, model)
    if found is None:
        return errors.model_not_found(model).response()
    return JsonResponse(found)


def _embedding_checked(request) -> tuple[embeddings.EmbeddingRequest, embeddings.EmbeddingModel]:
    """Authenticate (the key's rate counts this call), validate, and find the model named."""
    user, _key = _authenticate(request)
    parsed = embeddings.request_parse(_body(request))
    model = embeddings.embedding_model()
    if model is None or parsed.model != model.id:
        if models_usable(user=user).filter(slug=parsed.model).exists():
            message = (
                _("'%(model)s' is a chat model; the embedding model here is '%(embedding)s' (see /v1/models).")
                % {"model": parsed.model, "embedding": model.id}
                if model
                else _("'%(model)s' is a chat model, and no embedding model is configured on this server.")
                % {"model": parsed.model}
            )
            raise errors.invalid(message, param="model", code="model_not_supported")
        raise errors.model_not_found(parsed.model)
    embeddings.request_check(parsed, model)
    return parsed, model


async def embeddings_view(request):
    if request.method != "POST":
        return _not_allowed("POST")
    try:
        parsed, model = await db_sync_to_async(_embedding_checked)(request)
        await embeddings.lengths_check(parsed, model)
        return JsonResponse(await embeddings.embeddings_create(parsed, model))
    except errors.OpenAIError as exc:
        return exc.response()


async def not_found_view(request, *args, **kwargs):
    """Any other path under /v1: OpenAI's 404 ("Invalid URL"), with what this server has."""
    return errors.OpenAIError(
        404,
        _("Invalid URL (%(method)s %(path)s). This server has: %(supported)s.")
        % {"method": request.method, "path": request.path, "supported": ", ".join(SUPPORTED)},
    ).response()
