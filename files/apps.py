from django.apps import AppConfig


class FilesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "files"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 (connects its receivers)
