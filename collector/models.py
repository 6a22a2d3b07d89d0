import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy


class Tag(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collector_tags")
    name = models.CharField(max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = gettext_lazy("tag")
        verbose_name_plural = gettext_lazy("tags")
        ordering = ("name",)
        constraints = [models.UniqueConstraint("owner", Lower("name"), name="collector_tag_unique_per_owner")]

    def __str__(self) -> str:
        return self.name


class ItemKind(models.TextChoices):
    NOTE = "note"
    LINK = "link"
    FILE = "file"


def item_upload_path(instance: "Item", filename: str) -> str:
    # A random name per upload: the client's file name never reaches the filesystem path.
    return f"collector/{instance.owner_id}/{uuid.uuid4().hex}"


class Item(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collector_items")
    kind = models.CharField(max_length=5, choices=ItemKind.choices, default=ItemKind.NOTE)
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=2000, blank=True)
    content = models.TextField(blank=True)
    file = models.FileField(upload_to=item_upload_path, blank=True, max_length=300)
    file_name = models.CharField(
        max_length=255, blank=True, help_text=gettext_lazy("Original name of the uploaded file.")
    )
    file_size = models.PositiveIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    # A file item's file, in the one store every uploaded file is in (its text extracted there).
    stored_file = models.ForeignKey(
        "files.StoredFile", on_delete=models.SET_NULL, null=True, blank=True, related_name="collector_items"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="items")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("item")
        verbose_name_plural = gettext_lazy("items")
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("owner", "-created_at"))]

    def __str__(self) -> str:
        return self.title
