from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class Passage(models.Model):
    """A piece of a file's or a collector item's text, indexed for retrieval. Exactly one of
    ``file`` and ``item`` is set; ``owner`` is the owner of either (every search filters on it)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file = models.ForeignKey("files.StoredFile", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    item = models.ForeignKey("collector.Item", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    ordinal = models.PositiveIntegerField(help_text=gettext_lazy("Order of the passage within its source."))
    page = models.PositiveIntegerField(null=True, blank=True)
    text = models.TextField()
    terms = models.TextField(
        blank=True, help_text=gettext_lazy("The text as index terms (words and Korean bigrams), between spaces.")
    )
    term_count = models.PositiveIntegerField(
        default=0, help_text=gettext_lazy("Distinct terms: the passage's length in BM25.")
    )

    class Meta:
        verbose_name = gettext_lazy("passage")
        verbose_name_plural = gettext_lazy("passages")
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


class PassageEmbedding(models.Model):
    """A passage's vector from the optional embedding model (a table of its own: the passages'
    table is never rebuilt for it, which on SQLite would drop the full-text index's triggers)."""

    passage = models.OneToOneField(Passage, on_delete=models.CASCADE, primary_key=True, related_name="embedding")
    model = models.CharField(max_length=200, help_text=gettext_lazy("The embedding model that made it."))
    vector = models.BinaryField(help_text=gettext_lazy("float32 values."))

    def __str__(self) -> str:
        return f"{self.passage_id} ({self.model})"


class EmbeddingSettings(models.Model):
    """The optional embedding model (one row, edited in the admin): when enabled, passages get a
    vector from an OpenAI-compatible ``/embeddings`` endpoint, and retrieval re-ranks the BM25
    candidates by cosine similarity with the question's vector. Off, nothing is called."""

    enabled = models.BooleanField(default=False)
    base_url = models.URLField(
        max_length=500,
        blank=True,
        help_text=gettext_lazy("An OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1."),
    )
    model = models.CharField(max_length=200, blank=True, help_text=gettext_lazy("The embedding model's name upstream."))
    api_key_env = models.CharField(
        max_length=100,
        blank=True,
        help_text=gettext_lazy("The NAME of the environment variable holding the API key, if any."),
    )
    weight = models.FloatField(
        default=0.5,
        help_text=gettext_lazy("Share of the cosine similarity in the final score (0: BM25 only, 1: vectors only)."),
    )
    timeout_seconds = models.FloatField(default=10.0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("embedding settings")
        verbose_name_plural = gettext_lazy("embedding settings")

    def __str__(self) -> str:
        state = _("on") if self.enabled else _("off")
        model = self.model or _("no model")
        return f"{model} ({state})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from core.api_key_env import api_key_env_problem

        errors = {}
        problem = api_key_env_problem(self.api_key_env)
        if problem:
            errors["api_key_env"] = problem
        if self.enabled and not (self.base_url and self.model):
            errors["enabled"] = _("Name the base URL and the model before enabling embeddings.")
        if not 0.0 <= self.weight <= 1.0:
            errors["weight"] = _("Between 0 and 1.")
        # Every reply that searches documents may wait this long for the question's vector.
        if not 0.0 < self.timeout_seconds <= 10.0:
            errors["timeout_seconds"] = _("More than 0 and at most 10 seconds.")
        if errors:
            raise ValidationError(errors)

    @classmethod
    def current(cls) -> "EmbeddingSettings":
        return cls.objects.get_or_create(pk=1)[0]
