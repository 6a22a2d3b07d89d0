from django.apps import AppConfig


class CollectorConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "collector"

    def ready(self) -> None:
        from . import signals  # noqa: F401 (connects its receivers)
