"""Thin views: validate input, call a selector or service, serialize (downloads are files)."""

import json

from django.http import FileResponse, Http404, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations.models import Conversation
from core.viewsets import UUID_PATTERN

from .. import conf, documents, selectors, services
from ..exceptions import ExportExpired, ImportTooLarge
from . import schema
from . import serializers as s

# Room for the multipart envelope around the file itself.
_FORM_OVERHEAD_BYTES = 256 * 1024


def _no_sniffing(response):
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


@schema.IMPORTS
class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ImportSerializer
    parser_classes = [MultiPartParser]
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        return selectors.imports_of(user=self.request.user)

    def create(self, request):
        # Refused before parsing, so a huge upload is not first spooled to disk only to be rejected.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = conf.max_import_bytes()
        if length > limit + _FORM_OVERHEAD_BYTES:
            raise ImportTooLarge(
                _("The upload is too large (%(size)d bytes); the limit is %(limit)d bytes.")
                % {"size": length, "limit": limit}
            )
        data = s.ImportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.import_start(user=request.user, upload=data.validated_data["file"])
        return Response(s.ImportSerializer(row, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class IgnoreFormatParameter(BaseContentNegotiation):
    """``?format=`` here is the export's own parameter (json or markdown), not DRF's renderer
    override, and the download's type does not depend on ``Accept``: the view's one renderer (JSON)
    answers whatever goes wrong; the export itself is a file response."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _download_name(title: str, pk, extension: str) -> str:
    stem = slugify(title, allow_unicode=True)[:60].strip("-_") or "conversation"
    return f"{stem}-{str(pk)[:8]}.{extension}"


@schema.CONVERSATION_EXPORT
class ConversationExportView(APIView):
    content_negotiation_class = IgnoreFormatParameter

    def get(self, request, pk):
        # A plain dict: DRF reads an empty value in a QueryDict as "not given" (the default), the
        # schema says an empty format is refused.
        query = s.ConversationExportQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        try:
            conversation, messages = selectors.conversation_for_export(
                user=request.user, pk=pk, whole_tree=query.validated_data["format"] == "json"
            )
        except Conversation.DoesNotExist as exc:
            raise Http404 from exc
        exported_at = timezone.now()
        if query.validated_data["format"] == "markdown":
            body = documents.conversation_markdown(conversation, messages, exported_at=exported_at)
            content_type, extension = "text/markdown; charset=utf-8", "md"
        else:
            document = documents.conversation_document(conversation, messages, exported_at=exported_at)
            body = json.dumps(document, ensure_ascii=False, indent=2)
            content_type, extension = "application/json", "json"
        response = HttpResponse(body.encode(), content_type=content_type)
        name = _download_name(conversation.title, conversation.pk, extension)
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
        return _no_sniffing(response)


@schema.USER_EXPORT
class UserExportView(APIView):
    def post(self, request):
        export = services.user_export_start(user=request.user)
        return Response(s.ExportSerializer(export, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


@schema.EXPORTS
class ExportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ExportSerializer
    content_negotiation_class = IgnoreFormatParameter  # a download asked for with Accept: application/zip
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        return selectors.exports_of(user=self.request.user)

    @action(detail=True, methods=["get"])
    def download(self, request, pk):
        export = self.get_object()
        services.export_download_check(export=export)
        try:
            handle = export.file.open("rb")
        except FileNotFoundError as exc:
            raise ExportExpired(_("This export's file is gone; ask for a new one.")) from exc
        name = f"chat-export-{export.created_at:%Y-%m-%d}.zip"
        response = FileResponse(handle, as_attachment=True, filename=name, content_type="application/zip")
        return _no_sniffing(response)
