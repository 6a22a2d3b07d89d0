"""Thin views: validate input, call a selector or service, serialize."""

from urllib.parse import quote

from django.http import FileResponse
from django.utils.translation import gettext as _
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from core.exceptions import Conflict
from core.viewsets import UUID_PATTERN

from .. import selectors, services
from ..types import HTML
from ..uploads import FileTooLarge
from . import schema
from . import serializers as s

# Room for the multipart envelope around the file itself.
_FORM_OVERHEAD_BYTES = 256 * 1024
# Always as bytes, whatever else the headers say: a browser that rendered them would run their script.
# (SVG is never accepted as an upload at all.) Everything else keeps its type, as an attachment.
_SERVED_AS_BYTES = frozenset({HTML, "image/svg+xml"})


def _reject_oversized_body(request) -> None:
    """Refuse before parsing, so a huge upload is not first spooled to disk only to be refused."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = services.max_upload_bytes()
    if length > limit + _FORM_OVERHEAD_BYTES:
        raise FileTooLarge(_("The upload is larger than the limit of %(limit)d bytes per file.") % {"limit": limit})


class ContentMissing(Conflict):
    code = "file_content_missing"


def stored_content_open(field_file):
    """A stored file's bytes, opened for a download; bytes lost from the storage (a restore
    without the media folder, a blob deleted by hand) are a 409 the client can show, not a 500."""
    try:
        return field_file.open("rb")
    except FileNotFoundError as exc:
        raise ContentMissing(
            _("The file's stored content is missing (the server lost it); delete the file and upload it again.")
        ) from exc


def content_disposition(name: str) -> str:
    """``attachment`` with the name in RFC 5987 form (UTF-8, percent-encoded) and an ASCII fallback."""
    fallback = "".join(char if char.isascii() and char.isprintable() and char not in '"\\;' else "_" for char in name)
    return f"attachment; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{quote(name, safe='')}"


@schema.FILES
class FileViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.FileSerializer
    parser_classes = [MultiPartParser]
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        return selectors.file_list(owner=self.request.user)

    def get_object(self):
        return selectors.file_get(owner=self.request.user, pk=self.kwargs["pk"])

    def create(self, request):
        _reject_oversized_body(request)
        data = s.FileUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stored = services.file_create(owner=request.user, upload=data.validated_data["file"])
        return Response(s.FileSerializer(stored).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk):
        return Response(s.FileSerializer(self.get_object()).data)

    def destroy(self, request, pk):
        services.file_delete(file=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["get"])
    def content(self, request, pk):
        return file_download_response(self.get_object())


def file_download_response(stored) -> FileResponse:
    """The owner's download of a stored file: always an attachment, never rendered as HTML."""
    content_type = "application/octet-stream" if stored.content_type in _SERVED_AS_BYTES else stored.content_type
    response = FileResponse(stored_content_open(stored.blob), content_type=content_type)
    response["Content-Disposition"] = content_disposition(stored.name)
    response["Content-Length"] = str(stored.size)
    response["X-Content-Type-Options"] = "nosniff"
    # Even if a browser renders it, the file cannot run script against our origin.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response
