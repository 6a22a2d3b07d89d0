"""Shares (a user's public snapshot of a conversation) and Samples (staff-curated snapshots).

Both hold a *copy* of the messages, never a live view: what was shared is exactly what strangers
see, whatever happens to the source conversation afterwards.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

SHARE_ID_BYTES = 24  # 192 random bits


def new_share_id() -> str:
    # Unrelated to any other id and unguessable: the link itself is the only credential.
    return secrets.token_urlsafe(SHARE_ID_BYTES)


class ShareQuerySet(models.QuerySet):
    def live(self, *, now=None) -> "ShareQuerySet":
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class Share(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_share_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares")
    # SET_NULL: the share owns its snapshot, so deleting the source never breaks the link.
    source_conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="shares"
    )
    title = models.CharField(max_length=200)
    model_slug = models.CharField(max_length=64, blank=True, help_text="Model of the source, reused on clone.")
    model_name = models.CharField(max_length=100, blank=True)
    messages = models.JSONField(default=list, help_text="Snapshot: [{role, content, created_at}].")
    message_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    view_count = models.PositiveIntegerField(default=0)

    objects = ShareQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "id")
        indexes = [models.Index(fields=("owner", "-created_at"))]

    def __str__(self) -> str:
        return self.title

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_live(self) -> bool:
        return not self.is_revoked and not self.is_expired


class Sample(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=2000)
    model_slug = models.CharField(max_length=64, blank=True, help_text="Model of the source, reused on clone.")
    messages = models.JSONField(default=list, help_text="Snapshot: [{role, content, created_at}].")
    message_count = models.PositiveIntegerField(default=0)
    source_conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="samples"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="samples"
    )
    published = models.BooleanField(default=False, db_index=True)
    order = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("order", "-created_at", "id")

    def __str__(self) -> str:
        return self.title
