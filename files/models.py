import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy


def file_upload_path(instance: "StoredFile", filename: str) -> str:
    # Never the user's file name in the path: it is kept in ``name``, and served only as an attachment.
    return f"files/{instance.owner_id}/{instance.id}"


class FileStatus(models.TextChoices):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class StoredFile(models.Model):
    """A file a user uploaded: an attachment of a message, a collector file item, or both."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stored_files")
    name = models.CharField(max_length=255, help_text=gettext_lazy("The name the file was uploaded with."))
    content_type = models.CharField(
        max_length=100, help_text=gettext_lazy("From the file's own bytes, never the client.")
    )
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, blank=True)
    blob = models.FileField(upload_to=file_upload_path, max_length=300)
    status = models.CharField(max_length=12, choices=FileStatus.choices, default=FileStatus.PROCESSING)
    error = models.CharField(
        max_length=64, blank=True, help_text=gettext_lazy("Why extraction failed: a code, e.g. no_text.")
    )
    error_detail = models.CharField(max_length=300, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True, help_text=gettext_lazy("Pages, slides or sheets read."))
    # Runs of the extraction job since the upload (or "Extract again"): the sweep re-queues a lost one once.
    extract_runs = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("stored file")
        verbose_name_plural = gettext_lazy("stored files")
        ordering = ("-created_at", "id")
        indexes = [models.Index(fields=("owner", "-created_at"))]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class FilePage(models.Model):
    """The text of one page (or slide, or sheet) of a file, as extraction read it."""

    file = models.ForeignKey(StoredFile, on_delete=models.CASCADE, related_name="text_pages")
    number = models.PositiveIntegerField(help_text=gettext_lazy("1-based page, slide or sheet number."))
    label = models.CharField(max_length=200, blank=True, help_text=gettext_lazy("A sheet's name, if any."))
    text = models.TextField()

    class Meta:
        verbose_name = gettext_lazy("file page")
        verbose_name_plural = gettext_lazy("file pages")
        ordering = ("file", "number")
        constraints = [models.UniqueConstraint(fields=("file", "number"), name="one_text_per_page")]

    def __str__(self) -> str:
        return f"{self.file_id} p.{self.number}"
