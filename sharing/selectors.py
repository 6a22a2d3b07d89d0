"""Reads for shares and samples. Lists defer the snapshot itself: a row's count is stored."""

import re

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User

from .models import Sample, Share

_LIST_DEFERRED = ("messages",)
# Share ids are URL-safe base64 (``models.new_share_id``). Anything else is not found before any
# query: PostgreSQL refuses a NUL byte in text, which used to surface as a 500.
_SHARE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _checked(share_id: str) -> str:
    if not isinstance(share_id, str) or not _SHARE_ID.fullmatch(share_id):
        raise Http404("No such share.")
    return share_id


def shares_public() -> QuerySet[Share]:
    """Live shares (not revoked, not expired): anyone holding a link may read or clone one."""
    return Share.objects.live()


def share_get_public(*, share_id: str) -> Share:
    """A live share, for anyone holding the link; else 404."""
    share = shares_public().filter(pk=_checked(share_id)).first()
    if share is None:
        raise Http404("No such share.")
    return share


def share_list(*, user: User, include_all: bool = False) -> QuerySet[Share]:
    """The user's shares that have not been revoked; staff with ``include_all`` see everyone's."""
    qs = Share.objects.filter(revoked_at__isnull=True)
    if not (include_all and user.is_staff):
        qs = qs.filter(owner=user)
    return qs.defer(*_LIST_DEFERRED).order_by("-created_at", "id")


def shares_manageable(*, user: User) -> QuerySet[Share]:
    """Shares the user may revoke: their own, or any for staff; anyone else's is simply not found."""
    qs = Share.objects.filter(revoked_at__isnull=True)
    return qs if user.is_staff else qs.filter(owner=user)


def sample_list_public() -> QuerySet[Sample]:
    return Sample.objects.filter(published=True).defer(*_LIST_DEFERRED).order_by("order", "-created_at", "id")


def samples_visible(*, user: User | None) -> QuerySet[Sample]:
    """Published samples; staff also reach unpublished ones (to review them)."""
    if user is not None and user.is_authenticated and user.is_staff:
        return Sample.objects.all()
    return Sample.objects.filter(published=True)
