from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared helpers at the bottom of the house (no models of its own)."""

    name = "core"

    def ready(self) -> None:
        from .files import connect_file_cleanup
        from .serializers import use_zone_safe_date_times

        connect_file_cleanup()
        use_zone_safe_date_times()
