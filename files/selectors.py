"""Reads of stored files, always scoped to one owner: another user's file is not found (404)."""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from .models import StoredFile


class FileNotFound(Http404):
    """No such file of yours (also when it is someone else's)."""


def file_list(*, owner) -> QuerySet[StoredFile]:
    return StoredFile.objects.filter(owner=owner).order_by("-created_at", "id")


def file_get(*, owner, pk) -> StoredFile:
    try:
        return file_list(owner=owner).get(pk=pk)
    except (StoredFile.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        # Not a uuid at all is "no such file" too (Django says ValidationError for a malformed one).
        raise FileNotFound(_("No such file.")) from exc


def file_text(*, file: StoredFile) -> str:
    """All the text extraction read from the file, page after page."""
    return "\n\n".join(file.text_pages.order_by("number").values_list("text", flat=True))
