"""The OpenAPI description of the sharing API (``views.py``): one declaration per view."""

from drf_spectacular.utils import OpenApiResponse, extend_schema

from core.openapi import ErrorSerializer, view_schema

from . import serializers as s

_NOT_FOUND = OpenApiResponse(ErrorSerializer, "Not found (also revoked, expired, unpublished or another user's)")
_CLONED = OpenApiResponse(
    s.ClonedConversationSerializer, "The caller's new conversation; continue it with POST /conversations/{id}/messages"
)

SHARES = view_schema(
    tags=["sharing"],
    list=extend_schema(
        summary="List your shared links",
        parameters=[s.ShareListQuerySerializer],
        responses={200: s.ShareSerializer(many=True)},
    ),
    create=extend_schema(
        summary="Share a conversation as a read-only snapshot",
        request=s.ShareCreateSerializer,
        responses={
            201: s.ShareSerializer,
            404: _NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, "nothing_to_share: the conversation has no finished message yet"),
        },
        description="Snapshot one of your conversations as a public link. Later messages do not appear.",
    ),
    retrieve=extend_schema(
        summary="Read a shared conversation (public)",
        responses={200: s.PublicShareSerializer, 404: _NOT_FOUND},
        description="Public.",
    ),
    destroy=extend_schema(
        summary="Revoke a shared link", responses={204: None, 404: _NOT_FOUND}, description="Owner or staff."
    ),
    clone=extend_schema(
        summary="Continue a shared conversation as your own", request=None, responses={201: _CLONED, 404: _NOT_FOUND}
    ),
)

SAMPLES = view_schema(
    tags=["samples"],
    list=extend_schema(summary="List the published samples (public)", description="Published samples (public)."),
    create=extend_schema(
        summary="Staff: publish a conversation as a sample",
        request=s.SampleCreateSerializer,
        responses={201: s.SampleDetailSerializer, 404: _NOT_FOUND},
        description="Staff only: snapshot a conversation as a sample.",
    ),
    retrieve=extend_schema(
        summary="Read a sample (public)",
        responses={200: s.SampleDetailSerializer, 404: _NOT_FOUND},
        description="Public for published samples; staff also see unpublished ones.",
    ),
    clone=extend_schema(
        summary="Continue a sample as your own conversation", request=None, responses={201: _CLONED, 404: _NOT_FOUND}
    ),
)
