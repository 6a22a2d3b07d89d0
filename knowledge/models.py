from django.conf import settings
from django.db import models


class Passage(models.Model):
    """A piece of a file's or a collector item's text, indexed for retrieval. Exactly one of
    ``file`` and ``item`` is set; ``owner`` is the owner of either (every search filters on it)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file = models.ForeignKey("files.StoredFile", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    item = models.ForeignKey("collector.Item", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    ordinal = models.PositiveIntegerField(help_text="Order of the passage within its source.")
    page = models.PositiveIntegerField(null=True, blank=True)
    text = models.TextField()
    terms = models.TextField(
        blank=True, help_text="The text as index terms (words and Korean bigrams), between spaces."
    )
    term_count = models.PositiveIntegerField(default=0, help_text="Distinct terms: the passage's length in BM25.")

    class Meta:
        ordering = ("ordinal",)
        indexes = [models.Index(fields=("owner", "file")), models.Index(fields=("owner", "item"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(file__isnull=False, item__isnull=True)
                | models.Q(file__isnull=True, item__isnull=False),
                name="passage_has_one_source",
            )
        ]

    def __str__(self) -> str:
        return self.text[:40]
