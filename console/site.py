"""The admin as the operator's console (django-unfold): the site, and library admins restyled so
every page has the same look (the sidebar is ``sidebar.py``).

``console.apps.ConsoleAdminConfig`` calls :func:`restyle_library_admins` once the admin registry
is complete.
"""

from functools import wraps

from auditlog.context import set_actor
from django.conf import settings
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext as _
from unfold.admin import ModelAdmin
from unfold.sites import UnfoldAdminSite

from core import csp
from core.http import client_ip

from .dashboard import parse_days
from .guard import guarded_admin

# unfold's pages run Alpine.js, whose standard build (the one unfold ships) evaluates each x-
# attribute with Function(): the admin's policy allows that, and no inline script (core/csp.py).
ADMIN_SCRIPT_SOURCES = ("'unsafe-eval'",)


def site_title(request) -> str:
    """``UNFOLD["SITE_TITLE"]``: the browser tab's."""
    return _("%(site)s admin") % {"site": settings.SITE_NAME}


def site_header(request) -> str:
    return settings.SITE_NAME


def site_subheader(request) -> str:
    # Every time the admin shows is in the staff member's zone (their saved time_zone, else UTC:
    # accounts.preferences): named once here, on every page.
    return _("Operator console · times in %(time_zone)s") % {"time_zone": timezone.get_current_timezone_name()}


class ConsoleAdminSite(UnfoldAdminSite):
    """Every change made through the admin is recorded by django-auditlog with the staff member
    who made it and their address (the audit trail); changes made elsewhere (the API, commands)
    are recorded without a staff actor.

    Every admin registered here, the libraries' too, gets the superuser guard
    (``console/guard.py``): staff who are not superusers cannot act on a superuser's account.
    Every admin page's Content-Security-Policy allows what unfold needs (``ADMIN_SCRIPT_SOURCES``).
    """

    def register(self, model_or_iterable, admin_class=None, **options):
        super().register(model_or_iterable, guarded_admin(admin_class or admin.ModelAdmin), **options)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def audited(request, *args, **kwargs):
            csp.allow(request, "script-src", *ADMIN_SCRIPT_SOURCES)
            actor = request.user if request.user.is_authenticated else None
            with set_actor(actor, remote_addr=client_ip(request)):
                return inner(request, *args, **kwargs)

        return audited

    def login(self, request, extra_context=None):
        csp.allow(request, "script-src", *ADMIN_SCRIPT_SOURCES)
        return super().login(request, extra_context)

    def index(self, request, extra_context=None):
        # The dashboard's window (?days=): a value that is not offered is a 400 with its message
        # (unfold's index sets the status itself, after the dashboard callback has run).
        response = super().index(request, extra_context)
        if parse_days(request.GET.get("days")) is None:
            response.status_code = 400
        return response


def restyle_library_admins(site=admin.site) -> None:
    """Give the admins that libraries register (auth, sites, allauth, simplejwt, axes, auditlog)
    unfold's look: the same class with unfold's ModelAdmin mixed in."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, ModelAdmin):
            continue
        styled = type(type(model_admin).__name__, (type(model_admin), ModelAdmin), {})
        site.unregister(model)
        site.register(model, styled)
