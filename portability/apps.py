from django.apps import AppConfig


class PortabilityConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "portability"
    verbose_name = "Import and export"

    def ready(self) -> None:
        from . import signals  # noqa: F401 (connects its receivers)
