from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy


class Todo(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="todos")
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True)
    todo_date = models.DateTimeField(
        null=True, blank=True, help_text=gettext_lazy("When it is due (an aware date and time).")
    )
    complete = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("todo")
        verbose_name_plural = gettext_lazy("todos")
        ordering = ("todo_date", "id")
        indexes = [models.Index(fields=("owner", "todo_date"))]

    def __str__(self) -> str:
        return self.title
