"""The admin app with our site class (config.admin_console.ConsoleAdminSite). Kept apart from
admin_console.py: an app config is imported while apps load, before models may be."""

from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    default_site = "config.admin_console.ConsoleAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscover: every app's admin.py has registered its models
        from .admin_console import restyle_library_admins

        restyle_library_admins()
