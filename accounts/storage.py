"""A user's file storage: what their plan allows (``Plan.storage_limit_bytes``, 0 unlimited), what
they store now, and the one check every path that writes a user's file passes before writing it:
collector uploads (the API and the admin, ``collector.services.item_create``) and the collector
files of a user-export import (``portability.importing``). A new kind of stored file adds its model
to ``STORED_FILES`` and calls ``storage_check`` where it writes.

Counted: the size of every stored file the user owns. Not counted: an import's upload while it
waits for the worker and the user-export zips, which are deleted by themselves and bounded by
their own limits.
"""

from dataclasses import dataclass

from django.apps import apps
from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from core.exceptions import Conflict, DomainError

from .models import User, UserSettings
from .services import user_settings_get

# (app label, model, size field, owner field) of every model holding a user's stored files.
# (Collector items store new uploads as StoredFile rows: only items uploaded before that count here.)
STORED_FILES = (("collector", "Item", "file_size", "owner"), ("files", "StoredFile", "size", "owner"))


class StorageQuotaExceeded(Conflict):
    """Storing the file would take the user past their plan's storage (409: deleting files helps)."""

    code = "storage_quota_exceeded"


class FileLargerThanStorage(DomainError):
    """The file alone is larger than the plan's whole storage (413: nothing the user deletes helps)."""

    status_code = 413
    code = "storage_quota_exceeded"


@dataclass(frozen=True, slots=True)
class StorageUsage:
    used_bytes: int
    limit_bytes: int | None  # None: unlimited (a plan's 0)

    def fits(self, size: int) -> bool:
        return self.limit_bytes is None or self.used_bytes + size <= self.limit_bytes


def size_text(size: int) -> str:
    """``1536`` -> ``"1.5 KiB"``: sizes in messages people read."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.3g} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def storage_used_bytes(*, user_id: int) -> int:
    """Bytes of files the user stores now: one query, each kind of stored file a subquery of it."""
    totals = {}
    for index, (app_label, model_name, size_field, owner_field) in enumerate(STORED_FILES):
        model = apps.get_model(app_label, model_name)
        rows = model.objects.filter(**{owner_field: OuterRef("pk")}).order_by().values(owner_field)
        totals[f"used_{index}"] = Coalesce(Subquery(rows.annotate(total=Sum(size_field)).values("total")), 0)
    row = User.objects.filter(pk=user_id).annotate(**totals).values(*totals).first()
    return sum(row.values()) if row else 0


def storage_usage(*, settings_row: UserSettings) -> StorageUsage:
    """What the user stores against their plan's storage (``settings_row`` with its plan)."""
    return StorageUsage(
        used_bytes=storage_used_bytes(user_id=settings_row.user_id),
        limit_bytes=settings_row.plan.storage_limit_bytes or None,
    )


@transaction.atomic
def storage_check(*, user: User, size: int) -> StorageUsage:
    """Refuse ``size`` more bytes of ``user``'s files past their plan's storage
    (``FileLargerThanStorage``, ``StorageQuotaExceeded``). Call it in the transaction that writes
    the file: it locks the user's settings row until that transaction ends, so two uploads at once
    are counted one after the other (on PostgreSQL; SQLite runs one write at a time anyway)."""
    user_settings_get(user=user)  # a user created outside user_create gets their settings first
    settings_row = UserSettings.objects.select_for_update(of=("self",)).select_related("plan").get(user=user)
    usage = storage_usage(settings_row=settings_row)
    if usage.fits(size):
        return usage
    limit = usage.limit_bytes
    if size > limit:
        raise FileLargerThanStorage(
            f"The file ({size_text(size)}) is larger than your plan's storage ({size_text(limit)})."
        )
    raise StorageQuotaExceeded(
        f"The file ({size_text(size)}) does not fit in your plan's storage: {size_text(usage.used_bytes)} of "
        f"{size_text(limit)} used. Delete files to make room."
    )
