"""Thin views: validate input, call a selector or service, serialize."""

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils.translation import gettext as _
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from core.exceptions import Conflict
from core.viewsets import INT_PATTERN
from files.api.views import file_download_response, stored_content_open

from .. import selectors, services
from ..uploads import max_upload_bytes
from . import schema
from . import serializers as s

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
        raise ValidationError(
            {"file": [_("The upload is too large; the limit is %(limit)d bytes.") % {"limit": limit}]}
        )


@schema.ITEMS
class ItemViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ItemSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    lookup_value_regex = INT_PATTERN

    def get_queryset(self):
        if self.action == "list":
            filters = s.ItemFilterSerializer(data=self.request.query_params.dict())
            filters.is_valid(raise_exception=True)
            return selectors.item_list(user=self.request.user, **filters.validated_data)
        return selectors.item_list(user=self.request.user)

    def _item_response(self, item, status_code=status.HTTP_200_OK):
        return Response(s.ItemSerializer(item, context={"request": self.request}).data, status=status_code)

    def create(self, request):
        _reject_oversized_body(request)
        data = s.ItemCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.item_create(user=request.user, **data.validated_data)
        return self._item_response(item, status.HTTP_201_CREATED)

    def retrieve(self, request, pk):
        return self._item_response(self.get_object())

    def partial_update(self, request, pk):
        item = self.get_object()
        data = s.ItemUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return self._item_response(services.item_update(item=item, **data.validated_data))

    def destroy(self, request, pk):
        services.item_delete(item=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["get"])
    def file(self, request, pk):
        item = self.get_object()
        if item.stored_file_id:
            return file_download_response(item.stored_file)
        if not item.file:
            # The item exists (a 404 would say it does not): it is a note or a link (or a file item
            # whose file was deleted from the files store).
            raise Conflict(_("This item (%(kind)s) has no file.") % {"kind": item.kind}, code="item_has_no_file")
        response = FileResponse(
            stored_content_open(item.file),
            as_attachment=True,
            filename=item.file_name or "download",
            content_type=item.content_type or "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        # Even if a browser renders it, the file cannot run script against our origin.
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        response["Cache-Control"] = "private, no-store"
        return response


@schema.TAGS
class TagViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.TagSerializer

    def get_queryset(self):
        return selectors.tag_list(user=self.request.user)
