"""Imports (a ChatGPT export or our own documents, brought into a user's account) and exports (a
zip of everything a user owns), each run as a background job whose row says how far it got."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"  # done once, its file since deleted


class SourceFormat(models.TextChoices):
    UNKNOWN = "", "not read yet"
    CHATGPT = "chatgpt", gettext_lazy("ChatGPT export")
    CHAT_SERVER = "chat-server", gettext_lazy("chat-server document")
    USER_ARCHIVE = "chat-server-user", gettext_lazy("chat-server user export (zip)")


def import_upload_path(instance: "Import", filename: str) -> str:
    # A random name: the client's file name never reaches the filesystem path.
    return f"imports/{instance.owner_id}/{uuid.uuid4().hex}"


def export_file_path(instance: "Export", filename: str) -> str:
    return f"exports/{instance.owner_id}/{uuid.uuid4().hex}.zip"


class Import(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="imports")
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.QUEUED)
    source_format = models.CharField(max_length=20, choices=SourceFormat.choices, blank=True, default="")
    # The upload, kept only until the job has read it.
    file = models.FileField(upload_to=import_upload_path, blank=True, max_length=300)
    file_name = models.CharField(max_length=255, blank=True, help_text=gettext_lazy("Name of the uploaded file."))
    file_size = models.PositiveBigIntegerField(default=0)
    conversations_total = models.PositiveIntegerField(
        null=True, blank=True, help_text=gettext_lazy("Known once the file is read.")
    )
    conversations_imported = models.PositiveIntegerField(default=0)
    conversations_skipped = models.PositiveIntegerField(
        default=0, help_text=gettext_lazy("Already in the account (imported before), or nothing to import in them.")
    )
    conversations_failed = models.PositiveIntegerField(default=0)
    messages_imported = models.PositiveIntegerField(default=0)
    items_imported = models.PositiveIntegerField(default=0)
    items_skipped = models.PositiveIntegerField(default=0)
    todos_imported = models.PositiveIntegerField(default=0)
    todos_skipped = models.PositiveIntegerField(default=0)
    files_imported = models.PositiveIntegerField(
        default=0,
        help_text=gettext_lazy(
            "Stored files (chat attachments, uploads) restored; a collector item's file counts as its item."
        ),
    )
    files_skipped = models.PositiveIntegerField(
        default=0, help_text=gettext_lazy("Files already in the account (imported before).")
    )
    errors = models.JSONField(
        default=list, blank=True, help_text=gettext_lazy("[{kind, index, title, error}] per failed entry.")
    )
    error = models.TextField(blank=True, help_text=gettext_lazy("Why the whole import failed."))
    task_id = models.CharField(max_length=64, blank=True, help_text=gettext_lazy("The background job's id."))
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text=gettext_lazy("Times a worker started it (again only after a worker stopped mid-way).")
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("import")
        verbose_name_plural = gettext_lazy("imports")
        ordering = ("-created_at", "id")
        indexes = [models.Index(fields=("owner", "-created_at"))]

    def __str__(self) -> str:
        return f"import {self.file_name or self.pk} ({self.status})"


class Export(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports")
    status = models.CharField(max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    file = models.FileField(upload_to=export_file_path, blank=True, max_length=300)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text=gettext_lazy("What the zip holds, per part."))
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True, help_text=gettext_lazy("The background job's id."))
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text=gettext_lazy("The file is deleted after this."))

    class Meta:
        verbose_name = gettext_lazy("export")
        verbose_name_plural = gettext_lazy("exports")
        ordering = ("-created_at", "id")
        indexes = [models.Index(fields=("owner", "-created_at")), models.Index(fields=("status", "expires_at"))]

    def __str__(self) -> str:
        return f"export of {self.owner_id} ({self.status})"

    @property
    def is_expired(self) -> bool:
        return self.status == ExportStatus.EXPIRED or (
            self.expires_at is not None and self.expires_at <= timezone.now()
        )


class RecordKind(models.TextChoices):
    CONVERSATION = "conversation"
    ITEM = "item"
    TODO = "todo"
    FILE = "file"


class ImportRecord(models.Model):
    """What an import made from which source entry, so importing the same file again skips what is
    already in the account instead of duplicating it."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=RecordKind.choices)
    source = models.CharField(max_length=20, choices=SourceFormat.choices)
    source_key = models.CharField(max_length=200, help_text=gettext_lazy("The entry's id in its source."))
    target_id = models.CharField(max_length=64, help_text=gettext_lazy("The id of the row the import made."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = gettext_lazy("import record")
        verbose_name_plural = gettext_lazy("import records")
        constraints = [
            models.UniqueConstraint(fields=("owner", "kind", "source", "source_key"), name="portability_record_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.source}:{self.source_key} -> {self.target_id}"
