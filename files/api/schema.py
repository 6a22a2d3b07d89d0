"""The OpenAPI description of the files API (``views.py``): one declaration per view."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema

from core.openapi import ErrorSerializer, view_schema

from .. import types
from . import serializers as s

# A download is sent with the type its bytes were found to be (files/types.py), HTML excepted.
SERVED_TYPES = sorted(
    {"application/octet-stream"}
    | {value for name, value in vars(types).items() if name.isupper() and isinstance(value, str)} - {types.HTML}
)
DOWNLOAD_RESPONSES = {(200, media_type): OpenApiTypes.BINARY for media_type in SERVED_TYPES}

CONTENT_MISSING = OpenApiResponse(
    ErrorSerializer,
    "The file's row is there but its stored bytes are not (`file_content_missing`): delete it and upload it again.",
)
PROCESSING_FULL = OpenApiResponse(
    ErrorSerializer,
    "A document while `FILES_MAX_PROCESSING_PER_USER` (5) of your files are still `processing` "
    "(`too_many_files_processing`; images are never refused for it): upload it again once one is read, "
    "after the `Retry-After` seconds. Too many requests in general: `throttled`.",
)
_NOT_FOUND = OpenApiResponse(ErrorSerializer, "No such file of yours (another user's file is not found either).")

FILES = view_schema(
    tags=["files"],
    list=extend_schema(summary="List your files", responses={200: s.FileSerializer(many=True)}),
    create=extend_schema(
        summary="Upload a file",
        description="A document (PDF, DOCX, PPTX, XLSX, HWPX, HTML, Markdown, TXT, CSV, JSON) or an image (PNG, "
        "JPEG, WebP, GIF), told apart by its own bytes and its extension (the part's Content-Type is ignored). "
        "A document is `processing` until a background job has read its text (`ready`, with `pages`) or "
        "failed (`failed`, with `error`); poll `GET /files/{id}`. An image is `ready` at once.",
        request={"multipart/form-data": s.FileUploadSerializer},
        responses={
            201: s.FileSerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                "The file does not fit in what is left of your plan's storage (`storage_quota_exceeded`): "
                "delete files to make room.",
            ),
            413: OpenApiResponse(
                ErrorSerializer,
                "The file is larger than the per-file limit (`file_too_large`, `FILES_MAX_UPLOAD_BYTES`), or "
                "than your plan's whole storage (`storage_quota_exceeded`).",
            ),
            415: OpenApiResponse(
                ErrorSerializer,
                "A type this service cannot read (`unsupported_type`; the message names the accepted types; an "
                "HWP file is asked to be saved as HWPX; a zip package listing more than 10,000 parts or 4 MiB "
                "of directory is refused too), or a body that is not multipart/form-data.",
            ),
            429: PROCESSING_FULL,
        },
    ),
    retrieve=extend_schema(summary="Get one of your files", responses={200: s.FileSerializer, 404: _NOT_FOUND}),
    destroy=extend_schema(
        summary="Delete a file",
        description="The file, its text and its blob go. Messages it was attached to keep their text and lose "
        "the attachment; a collector item holding it keeps its title and loses its file.",
        responses={204: None, 404: _NOT_FOUND},
    ),
    content=extend_schema(
        summary="Download a file",
        description="The owner's download of the uploaded bytes, always as an attachment with the original "
        "name (`Content-Disposition`, RFC 5987); HTML is sent as `application/octet-stream` and nothing is "
        "ever rendered inline.",
        responses={**DOWNLOAD_RESPONSES, 404: _NOT_FOUND, 409: CONTENT_MISSING},
    ),
)
