"""The OpenAPI description of imports and exports (``views.py``): one declaration per view."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema

from core.openapi import ErrorSerializer, view_schema

from .. import conf, documents
from . import serializers as s

_TOO_LARGE = OpenApiResponse(ErrorSerializer, "The file is over `PORTABILITY_MAX_IMPORT_BYTES` (`import_too_large`).")
_TOO_MANY = OpenApiResponse(
    ErrorSerializer, "You already have imports waiting or running (`too_many_imports`): try once they are done."
)
_NOT_READY = OpenApiResponse(
    ErrorSerializer, "Not finished yet (`export_not_ready`), or failed (`export_failed`): ask for its status."
)
_EXPIRED = OpenApiResponse(ErrorSerializer, "Expired: its file was deleted (`export_expired`); ask for a new one.")

IMPORTS = view_schema(
    tags=["portability"],
    list=extend_schema(summary="List your imports", responses={200: s.ImportSerializer(many=True)}),
    retrieve=extend_schema(summary="An import's status, counts and errors", responses={200: s.ImportSerializer}),
    create=extend_schema(
        summary="Import a ChatGPT export or a chat-server export",
        description=(
            "Upload (multipart, field `file`) the `conversations.json` of a ChatGPT data export or the export's "
            "zip as downloaded, a conversation exported here as JSON (`chat-server.conversation`, or a list of "
            "them), or a user export zip from here (its conversations, collector items with their files and "
            "todos come in). The kind is told from the content. The request only stores the file and queues "
            "the import: 202 with the import, whose status (queued, running, done, failed) and counts then "
            "follow `GET /imports/{id}`. Of a ChatGPT conversation the whole tree of its `mapping` is imported "
            "(every version of a regenerated reply or an edited question), the branch the user last saw "
            "(`current_node`) as the current one, without system, tool, hidden or empty messages, keeping titles "
            "and times; our own JSON comes back as the same tree with the same current message. A broken "
            "conversation is listed in `errors` and the others are imported; a conversation already in your "
            "account (imported before) is skipped. A file that is plainly none of these is a 400 naming `file`; "
            "one over the size limit a 413."
        ),
        request={"multipart/form-data": s.ImportCreateSerializer},
        responses={
            202: OpenApiResponse(s.ImportSerializer, "Accepted: the import is queued"),
            409: _TOO_MANY,
            413: _TOO_LARGE,
        },
    ),
)

CONVERSATION_EXPORT = view_schema(
    tags=["portability"],
    get=extend_schema(
        summary="Download a conversation as JSON or Markdown",
        description=(
            "An attachment. `format=json` (the default) is our versioned document "
            f'(`{{"format": "{documents.CONVERSATION_FORMAT}", "version": {documents.VERSION}, ...}}`: the '
            "conversation's settings, its current message and every message of its tree, each with its id, "
            "parent, role, text, status and time, a reply's sources, tool calls (arguments and results in full) and "
            "notices), which `POST /imports` takes back; `format=markdown` is a transcript for people of the "
            "active path (the versions of each turn being read), each tool call with its arguments and result."
        ),
        parameters=[s.ConversationExportQuerySerializer],
        responses={
            (200, "application/json"): OpenApiResponse(s.ConversationDocumentSerializer, "The conversation document"),
            (200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR, "A Markdown transcript"),
        },
    ),
)

USER_EXPORT = view_schema(
    tags=["portability"],
    post=extend_schema(
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
    ),
)

EXPORTS = view_schema(
    tags=["portability"],
    list=extend_schema(summary="List your data exports", responses={200: s.ExportSerializer(many=True)}),
    retrieve=extend_schema(summary="A data export's status", responses={200: s.ExportSerializer}),
    download=extend_schema(
        summary="Download a finished data export",
        description="The zip, as an attachment, to its owner only (bearer token); gone once it has expired.",
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, "The zip"),
            409: _NOT_READY,
            410: _EXPIRED,
        },
    ),
)
