from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import ErrorSerializer
from conversations.models import Conversation

from .. import selectors, services
from ..uploads import max_upload_bytes
from . import serializers as s

_ERROR = ErrorSerializer
_FIELD_ERRORS = OpenApiResponse(description="Invalid input: {field: [messages]}")


# Room for the multipart envelope and the other form fields around the file itself.
_FORM_OVERHEAD_BYTES = 256 * 1024


def _reject_oversized_body(request) -> None:
    """Refuse before parsing, so a huge upload is not first spooled to disk only to be rejected."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = max_upload_bytes()
    if length > limit + _FORM_OVERHEAD_BYTES:
        raise ValidationError({"file": [f"The upload is too large; the limit is {limit} bytes."]})


def _user_item(request, pk):
    return get_object_or_404(selectors.item_list(user=request.user), pk=pk)


@extend_schema(tags=["collector"])
class ItemListView(generics.ListAPIView):
    serializer_class = s.ItemSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        filters = s.ItemFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        return selectors.item_list(user=self.request.user, **filters.validated_data)

    @extend_schema(
        parameters=[s.ItemFilterSerializer], responses={200: s.ItemSerializer(many=True), 400: _FIELD_ERRORS}
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"application/json": s.ItemCreateSerializer, "multipart/form-data": s.ItemCreateSerializer},
        responses={201: s.ItemSerializer, 400: _FIELD_ERRORS},
    )
    def post(self, request):
        _reject_oversized_body(request)
        data = s.ItemCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.item_create(user=request.user, **data.validated_data)
        return Response(s.ItemSerializer(item, context={"request": request}).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["collector"])
class ItemDetailView(APIView):
    @extend_schema(responses={200: s.ItemSerializer, 404: _ERROR})
    def get(self, request, pk):
        return Response(s.ItemSerializer(_user_item(request, pk), context={"request": request}).data)

    @extend_schema(request=s.ItemUpdateSerializer, responses={200: s.ItemSerializer, 400: _FIELD_ERRORS, 404: _ERROR})
    def patch(self, request, pk):
        item = _user_item(request, pk)
        data = s.ItemUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        item = services.item_update(item=item, **data.validated_data)
        return Response(s.ItemSerializer(item, context={"request": request}).data)

    @extend_schema(responses={204: None, 404: _ERROR})
    def delete(self, request, pk):
        services.item_delete(item=_user_item(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["collector"])
class ItemFileView(APIView):
    """The owner's download of an uploaded file; never served from a public media URL."""

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: _ERROR},
        description="Download the uploaded file (as an attachment, with its original name).",
    )
    def get(self, request, pk):
        item = _user_item(request, pk)
        if not item.file:
            raise Http404
        response = FileResponse(
            item.file.open("rb"),
            as_attachment=True,
            filename=item.file_name or "download",
            content_type=item.content_type or "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        # Even if a browser renders it, the file cannot run script against our origin.
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        response["Cache-Control"] = "private, no-store"
        return response


@extend_schema(tags=["collector"])
class TagListView(generics.ListAPIView):
    serializer_class = s.TagSerializer

    def get_queryset(self):
        return selectors.tag_list(user=self.request.user)


@extend_schema(tags=["collector"])
class ConversationContextItemsView(APIView):
    """Collector items whose text is given to the model as context for one conversation."""

    def _conversation(self, request, pk):
        return get_object_or_404(Conversation.objects.filter(owner=request.user), pk=pk)

    def _respond(self, request, items):
        body = {"item_ids": [item.pk for item in items], "items": items}
        return Response(s.ContextItemsSerializer(body, context={"request": request}).data)

    @extend_schema(responses={200: s.ContextItemsSerializer, 404: _ERROR})
    def get(self, request, pk):
        conversation = self._conversation(request, pk)
        return self._respond(request, list(selectors.conversation_context_items(conversation=conversation)))

    @extend_schema(
        request=s.ContextItemsInputSerializer,
        responses={200: s.ContextItemsSerializer, 400: _FIELD_ERRORS, 404: _ERROR},
    )
    def put(self, request, pk):
        conversation = self._conversation(request, pk)
        data = s.ContextItemsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.conversation_context_set(
            user=request.user, conversation=conversation, item_ids=data.validated_data["item_ids"]
        )
        return self._respond(request, list(selectors.conversation_context_items(conversation=conversation)))
