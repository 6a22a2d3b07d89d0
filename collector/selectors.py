"""Reads for the collector, always scoped to one owner."""

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from core.search import icontains
from files.models import FilePage

from .models import Item, ItemKind, Tag

ORDERINGS = ("created_at", "-created_at", "title", "-title", "updated_at", "-updated_at")
MAX_QUERY_LENGTH = 100  # the whole comma-separated query, as the API schema declares it
MAX_KEYWORDS = 50  # as many as fit in MAX_QUERY_LENGTH ("a,b,c,..."): each is one more AND
MAX_KEYWORD_LENGTH = MAX_QUERY_LENGTH


def keywords_parse(q: str | None) -> list[str]:
    """``"kw1, kw2,,"`` -> ``["kw1", "kw2"]``; every keyword must match (AND)."""
    keywords = [part.strip() for part in (q or "").split(",") if part.strip()]
    if len(keywords) > MAX_KEYWORDS:
        raise ValidationError({"q": [_("At most %(limit)d keywords.") % {"limit": MAX_KEYWORDS}]})
    if any(len(keyword) > MAX_KEYWORD_LENGTH for keyword in keywords):
        raise ValidationError({"q": [_("Keywords are at most %(limit)d characters.") % {"limit": MAX_KEYWORD_LENGTH}]})
    return keywords


def item_list(
    *,
    user,
    q: str | None = None,
    tag: str | None = None,
    kind: str | None = None,
    ordering: str | None = None,
) -> QuerySet[Item]:
    items = Item.objects.filter(owner=user).select_related("stored_file").prefetch_related("tags")
    for keyword in keywords_parse(q):
        # AND across keywords, OR across the fields a keyword may appear in, the text extraction
        # read from the item's file among them (a subquery: a join would repeat the item per page).
        # Each in both Unicode forms of Korean (core.search).
        in_file = Exists(FilePage.objects.filter(icontains("text", keyword), file_id=OuterRef("stored_file_id")))
        in_fields = icontains("title", keyword) | icontains("content", keyword) | icontains("url", keyword)
        items = items.filter(in_fields | in_file)
    if tag:
        # Tag names are unique per owner case-insensitively, so this join cannot duplicate rows.
        items = items.filter(tags__name__iexact=tag.strip())
    if kind:
        if kind not in ItemKind.values:
            raise ValidationError(
                {"kind": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(ItemKind.values)}]}
            )
        items = items.filter(kind=kind)
    if ordering:
        if ordering not in ORDERINGS:
            raise ValidationError({"ordering": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(ORDERINGS)}]})
        items = items.order_by(ordering, "-id")
    return items


def tag_list(*, user) -> QuerySet[Tag]:
    """The user's tags with how many items carry each, in one query."""
    return Tag.objects.filter(owner=user).annotate(item_count=Count("items")).order_by("name", "id")
