"""Thin views: validate input, call a selector or service, serialize (downloads are files)."""

import json

from django.http import FileResponse, Http404, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations.models import Conversation
from core.openapi import INVALID_INPUT, NOT_FOUND, ErrorSerializer
from core.viewsets import UUID_PATTERN

from .. import conf, documents, selectors, services
from ..exceptions import ExportExpired, ImportTooLarge
from . import serializers as s

_TOO_LARGE = OpenApiResponse(ErrorSerializer, "The file is over `PORTABILITY_MAX_IMPORT_BYTES` (`import_too_large`).")
_TOO_MANY = OpenApiResponse(
    ErrorSerializer, "You already have imports waiting or running (`too_many_imports`): try once they are done."
)
_NOT_READY = OpenApiResponse(
    ErrorSerializer, "Not finished yet (`export_not_ready`), or failed (`export_failed`): ask for its status."
)
_EXPIRED = OpenApiResponse(ErrorSerializer, "Expired: its file was deleted (`export_expired`); ask for a new one.")
# Room for the multipart envelope around the file itself.
_FORM_OVERHEAD_BYTES = 256 * 1024


def _no_sniffing(response):
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


@extend_schema(tags=["portability"])
@extend_schema_view(
    list=extend_schema(summary="List your imports", responses={200: s.ImportSerializer(many=True)}),
    retrieve=extend_schema(
        summary="An import's status, counts and errors", responses={200: s.ImportSerializer, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="Import a ChatGPT export or a chat-server export",
        description=(
            "Upload (multipart, field `file`) the `conversations.json` of a ChatGPT data export or the export's "
            "zip as downloaded, a conversation exported here as JSON (`chat-server.conversation`, or a list of "
            "them), or a user export zip from here (its conversations, collector items with their files and "
            "todos come in). The kind is told from the content. The request only stores the file and queues "
            "the import: 202 with the import, whose status (queued, running, done, failed) and counts then "
            "follow `GET /imports/{id}`. Of a ChatGPT conversation the branch the user last saw (`current_node`) "
            "is imported, without system, tool, hidden or empty messages, keeping titles and times. A broken "
            "conversation is listed in `errors` and the others are imported; a conversation already in your "
            "account (imported before) is skipped. A file that is plainly none of these is a 400 naming `file`; "
            "one over the size limit a 413."
        ),
        request={"multipart/form-data": s.ImportCreateSerializer},
        responses={
            202: OpenApiResponse(s.ImportSerializer, "Accepted: the import is queued"),
            400: INVALID_INPUT,
            409: _TOO_MANY,
            413: _TOO_LARGE,
        },
    ),
)
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
            raise ImportTooLarge(f"The upload is too large ({length} bytes); the limit is {limit} bytes.")
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


@extend_schema(tags=["portability"])
class ConversationExportView(APIView):
    content_negotiation_class = IgnoreFormatParameter

    @extend_schema(
        summary="Download a conversation as JSON or Markdown",
        description=(
            "An attachment. `format=json` (the default) is our versioned document "
            f'(`{{"format": "{documents.CONVERSATION_FORMAT}", "version": {documents.VERSION}, ...}}`: the '
            "conversation's settings and its messages with roles, text, status and times), which `POST /imports` "
            "takes back; `format=markdown` is a transcript for people."
        ),
        parameters=[s.ConversationExportQuerySerializer],
        responses={
            (200, "application/json"): OpenApiResponse(s.ConversationDocumentSerializer, "The conversation document"),
            (200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR, "A Markdown transcript"),
            400: INVALID_INPUT,
            404: NOT_FOUND,
        },
    )
    def get(self, request, pk):
        # A plain dict: DRF reads an empty value in a QueryDict as "not given" (the default), the
        # schema says an empty format is refused.
        query = s.ConversationExportQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        try:
            conversation, messages = selectors.conversation_for_export(user=request.user, pk=pk)
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


@extend_schema(tags=["portability"])
class UserExportView(APIView):
    @extend_schema(
        summary="Export all your data as a zip",
        description=(
            "Queues a zip of everything your account holds: profile, settings, conversations with every "
            "message, collector items and their files, todos and shares. 202 with the export; follow "
            "`GET /user/exports/{id}` until its status is `done`, then download it from `download_url` "
            f"(kept {conf.DEFAULT_EXPORT_DAYS} days by default, `PORTABILITY_EXPORT_DAYS`). Asking again while "
            "one is still being made answers that one."
        ),
        request=None,
        responses={202: OpenApiResponse(s.ExportSerializer, "Accepted: the export is queued")},
    )
    def post(self, request):
        export = services.user_export_start(user=request.user)
        return Response(s.ExportSerializer(export, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["portability"])
@extend_schema_view(
    list=extend_schema(summary="List your data exports", responses={200: s.ExportSerializer(many=True)}),
    retrieve=extend_schema(summary="A data export's status", responses={200: s.ExportSerializer, 404: NOT_FOUND}),
    download=extend_schema(
        summary="Download a finished data export",
        description="The zip, as an attachment, to its owner only (bearer token); gone once it has expired.",
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, "The zip"),
            404: NOT_FOUND,
            409: _NOT_READY,
            410: _EXPIRED,
        },
    ),
)
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
            raise ExportExpired("This export's file is gone; ask for a new one.") from exc
        name = f"chat-export-{export.created_at:%Y-%m-%d}.zip"
        response = FileResponse(handle, as_attachment=True, filename=name, content_type="application/zip")
        return _no_sniffing(response)
