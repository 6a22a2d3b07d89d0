from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class PortabilityConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "portability"
    verbose_name = gettext_lazy("Import and export")

    def ready(self) -> None:
        from . import signals  # noqa: F401 (connects its receivers)
