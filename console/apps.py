"""The console's two apps, each named in INSTALLED_APPS by its dotted path: the console itself
(``ConsoleConfig``, after the domain apps, so the admin modules that replace their admins are
imported after theirs) and django.contrib.admin with our site class (``ConsoleAdminConfig``:
``console.site.ConsoleAdminSite``). An app config is imported while apps load, before models may
be: the site is named by its path and imported once they are."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = _("Operator console")


class ConsoleAdminConfig(AdminConfig):
    default_site = "console.site.ConsoleAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscover: every app's admin.py has registered its models
        from .field_labels import translate_field_labels
        from .site import restyle_library_admins

        restyle_library_admins()
        translate_field_labels()
