"""Writes for the collector: items (notes, links, files), their tags, and conversation context."""

import unicodedata
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from core.services import save_changed
from core.titles import title_clean, title_fit
from files.services import file_create

from .models import Item, ItemKind, Tag
from .uploads import CheckedUpload, check_upload

MAX_TAGS_PER_ITEM = 20
MAX_TAG_LENGTH = 50
TITLE_MAX_LENGTH = Item._meta.get_field("title").max_length
CONTENT_MAX_CHARS = 100_000

_http_url = URLValidator(schemes=["http", "https"])


def tag_names_clean(names: Iterable[str] | None) -> list[str]:
    """Strip, drop blanks and case-insensitive duplicates (first spelling wins), enforce limits."""
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in names or []:
        name = " ".join(str(raw).split())
        if not name:
            continue
        if any(unicodedata.category(char) == "Cc" for char in name):
            raise ValidationError({"tags": [_("Tags cannot contain control characters.")]}, code="invalid")
        if len(name) > MAX_TAG_LENGTH:
            raise ValidationError(
                {
                    "tags": [
                        _("Tag '%(name)s...' is longer than %(limit)d characters.")
                        % {"name": name[:20], "limit": MAX_TAG_LENGTH}
                    ]
                }
            )
        if name.lower() not in seen:
            seen.add(name.lower())
            cleaned.append(name)
    if len(cleaned) > MAX_TAGS_PER_ITEM:
        raise ValidationError({"tags": [_("An item can have at most %(limit)d tags.") % {"limit": MAX_TAGS_PER_ITEM}]})
    return cleaned


def _tags_get_or_create(*, user, names: Sequence[str]) -> list[Tag]:
    if not names:
        return []
    wanted = {name.lower(): name for name in names}

    def existing() -> dict[str, Tag]:
        # Matched by the database's lower() and by exact name, keyed by Python's lower(): SQLite
        # lowers ASCII only ("Ärger" stays "Ärger"), so the two can disagree on non-ASCII names.
        rows = Tag.objects.annotate(lname=Lower("name")).filter(
            Q(lname__in=list(wanted)) | Q(name__in=list(wanted.values())), owner=user
        )
        return {tag.name.lower(): tag for tag in rows}

    found = existing()
    missing = [Tag(owner=user, name=name) for lower, name in wanted.items() if lower not in found]
    if missing:
        # ignore_conflicts: a concurrent request may create the same tag; the re-read picks it up.
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        found = existing()
    return [found[lower] for lower in wanted]


def _url_clean(url: str) -> str:
    url = (url or "").strip()
    try:
        _http_url(url)
    except ValidationError as exc:
        raise ValidationError({"url": [_("Enter a valid http(s) URL.")]}) from exc
    return url


def item_fields_clean(*, kind: str, title: str = "", url: str = "", upload=None) -> dict:
    """Kind-specific rules shared by the API and the admin; returns the values to store."""
    if kind not in ItemKind.values:
        raise ValidationError({"kind": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(ItemKind.values)}]})
    title = title_clean(title, max_length=TITLE_MAX_LENGTH)
    values: dict = {"kind": kind, "title": title}
    if kind == ItemKind.NOTE:
        if not title:
            raise ValidationError({"title": ["A note needs a title."]})
        if url:
            values["url"] = _url_clean(url)
    elif kind == ItemKind.LINK:
        values["url"] = _url_clean(url)
        values["title"] = title or title_fit(values["url"], max_length=TITLE_MAX_LENGTH)
    else:
        if upload is None:
            raise ValidationError({"file": ["A file item needs an uploaded file."]})
        checked: CheckedUpload = check_upload(upload)
        values["checked_upload"] = checked
        values["title"] = title or title_fit(checked.original_name, max_length=TITLE_MAX_LENGTH)
        if url:
            values["url"] = _url_clean(url)
    return values


@transaction.atomic
def item_create(
    *,
    user,
    kind: str,
    title: str = "",
    content: str = "",
    url: str = "",
    file=None,
    tags: Iterable[str] | None = None,
    limit_processing: bool = True,
) -> Item:
    values = item_fields_clean(kind=kind, title=title, url=url, upload=file)
    tag_names = tag_names_clean(tags)
    checked: CheckedUpload | None = values.pop("checked_upload", None)
    item = Item(owner=user, content=(content or "")[:CONTENT_MAX_CHARS], **values)
    if checked is None:
        item.save()
        item.tags.set(_tags_get_or_create(user=user, names=tag_names))
        return item

    # One store for every uploaded file: checked again (and counted against the plan's storage)
    # there, read into text pages by its extraction job, which collector search then looks into.
    stored = file_create(owner=user, upload=file, name=checked.original_name, limit_processing=limit_processing)
    item.stored_file = stored
    item.file_name = stored.name
    item.content_type = stored.content_type
    # file_size stays empty: the StoredFile's size is what the plan's storage counts (once).
    try:
        item.save()
        item.tags.set(_tags_get_or_create(user=user, names=tag_names))
    except BaseException:
        # Neither row will exist, so neither may the blob file_create stored.
        stored.blob.storage.delete(stored.blob.name)
        raise
    return item


@transaction.atomic
def item_update(
    *,
    item: Item,
    title: str | None = None,
    content: str | None = None,
    url: str | None = None,
    tags: Iterable[str] | None = None,
) -> Item:
    changes: dict = {}
    if title is not None:
        changes["title"] = title_clean(title, max_length=TITLE_MAX_LENGTH)
        if not changes["title"] and item.kind != ItemKind.LINK:
            raise ValidationError({"title": [_("The title cannot be blank.")]})
    if url is not None:
        changes["url"] = _url_clean(url) if url.strip() or item.kind == ItemKind.LINK else ""
    if changes.get("title") == "":
        # A link's blank title is its URL: the one given alongside, if any.
        changes["title"] = title_fit(changes.get("url", item.url), max_length=TITLE_MAX_LENGTH)
    if content is not None:
        changes["content"] = content[:CONTENT_MAX_CHARS]
    tag_names = tag_names_clean(tags) if tags is not None else None
    changed = save_changed(item, **changes)
    if tag_names is not None:
        item.tags.set(_tags_get_or_create(user=item.owner, names=tag_names))
        if not changed:
            item.save(update_fields=["updated_at"])
    return item


@transaction.atomic
def item_delete(*, item: Item) -> None:
    # An old item's own file is removed after commit (core/files.py: every way a row goes); its
    # StoredFile goes too unless a message holds it (collector.signals, for every way an item goes).
    item.delete()
