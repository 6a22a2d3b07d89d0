"""The OpenAPI description of the collector API (``views.py``): one declaration per view."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema

from core.openapi import CONFLICT, ErrorSerializer, view_schema
from files.api.schema import DOWNLOAD_RESPONSES, PROCESSING_FULL

from . import serializers as s

_STORAGE_FULL = OpenApiResponse(
    ErrorSerializer,
    "The file does not fit in what is left of your plan's storage (`storage_quota_exceeded`): delete files "
    "to make room (`GET /user/settings/subscription` has `storage`).",
)
_LARGER_THAN_STORAGE = OpenApiResponse(
    ErrorSerializer, "The file alone is larger than your plan's whole storage (`storage_quota_exceeded`)."
)

ITEMS = view_schema(
    tags=["collector"],
    list=extend_schema(
        summary="List or search your collector items",
        parameters=[s.ItemFilterSerializer],
        responses={200: s.ItemSerializer(many=True)},
    ),
    create=extend_schema(
        summary="Add a note, link or file",
        request={"application/json": s.ItemCreateSerializer, "multipart/form-data": s.ItemCreateSerializer},
        responses={201: s.ItemSerializer, 409: _STORAGE_FULL, 413: _LARGER_THAN_STORAGE, 429: PROCESSING_FULL},
    ),
    retrieve=extend_schema(summary="Get one of your items", responses={200: s.ItemSerializer}),
    partial_update=extend_schema(
        summary="Change an item", request=s.ItemUpdateSerializer, responses={200: s.ItemSerializer}
    ),
    destroy=extend_schema(summary="Delete an item (and its file)", responses={204: None}),
    file=extend_schema(
        summary="Download an item's file",
        responses={**DOWNLOAD_RESPONSES, (200, "application/octet-stream"): OpenApiTypes.BINARY, 409: CONFLICT},
        description="The owner's download of the uploaded file (as an attachment, with its original name); "
        "never served from a public media URL. A note or a link has no file: 409 `item_has_no_file`; a file "
        "whose stored bytes were lost: 409 `file_content_missing`.",
    ),
)

TAGS = view_schema(
    tags=["collector"],
    list=extend_schema(summary="List your tags with how many items carry each"),
)
