"""The admin as the operator's console (django-unfold): the site, the sidebar grouped by task,
and library admins restyled so every page has the same look.

``UNFOLD["SIDEBAR"]["navigation"]`` points at :func:`sidebar_navigation`; ``config/urls.py``
calls :func:`restyle_library_admins` once the admin registry is complete.
"""

from functools import wraps

from auditlog.context import set_actor
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.sites import UnfoldAdminSite

from core import csp
from core.http import client_ip

from .admin_guard import guarded_admin

# unfold's pages run Alpine.js, whose standard build (the one unfold ships) evaluates each x-
# attribute with Function(): the admin's policy allows that, and no inline script (config/csp.py).
ADMIN_SCRIPT_SOURCES = ("'unsafe-eval'",)


class ConsoleAdminSite(UnfoldAdminSite):
    """Every change made through the admin is recorded by django-auditlog with the staff member
    who made it and their address (the audit trail); changes made elsewhere (the API, commands)
    are recorded without a staff actor.

    Every admin registered here, the libraries' too, gets the superuser guard
    (``config/admin_guard.py``): staff who are not superusers cannot act on a superuser's account.
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
        from conversations.dashboard import parse_days

        response = super().index(request, extra_context)
        if parse_days(request.GET.get("days")) is None:
            response.status_code = 400
        return response


# (group, collapsible, [(title, material icon, "app_label.model_name" or a URL name)])
SIDEBAR = [
    (
        _("Overview"),
        False,
        [
            (_("Dashboard"), "dashboard", "admin:index"),
            (_("Usage details"), "monitoring", "admin-usage"),
            (_("Audit trail"), "history", "auditlog.logentry"),
            (_("Background jobs"), "pending_actions", "django_tasks_database.dbtaskresult"),
        ],
    ),
    (
        _("People"),
        False,
        [
            (_("Users"), "person", "accounts.user"),
            (_("Devices"), "devices", "accounts.device"),
            (_("Plans"), "workspace_premium", "accounts.plan"),
            (_("API keys"), "key", "accounts.apikey"),
        ],
    ),
    (
        _("Chat"),
        False,
        [
            (_("Conversations"), "forum", "conversations.conversation"),
            (_("Messages"), "chat", "conversations.message"),
            (_("Feedback"), "thumbs_up_down", "conversations.feedback"),
        ],
    ),
    (
        _("Models"),
        False,
        [
            (_("Model catalog"), "smart_toy", "conversations.llmmodel"),
            (_("Prompts"), "lightbulb", "conversations.prompt"),
        ],
    ),
    (
        _("Content"),
        False,
        [
            (_("Samples"), "auto_stories", "sharing.sample"),
            (_("Shares"), "share", "sharing.share"),
            (_("Collector items"), "inventory_2", "collector.item"),
            (_("Collector tags"), "sell", "collector.tag"),
            (_("Todos"), "checklist", "todos.todo"),
            (_("Imports"), "upload_file", "portability.import"),
            (_("Data exports"), "download", "portability.export"),
        ],
    ),
    (
        _("Sign-in"),
        False,
        [
            (_("Social applications"), "login", "socialaccount.socialapp"),
            (_("Social accounts"), "link", "socialaccount.socialaccount"),
            (_("Failed sign-ins"), "gpp_maybe", "axes.accessfailurelog"),
            (_("Locked sign-ins"), "lock", "axes.accessattempt"),
        ],
    ),
    # What the libraries keep for themselves: reachable, out of the way.
    (
        _("Library internals"),
        True,
        [
            (_("Email addresses"), "mail", "account.emailaddress"),
            (_("Groups"), "group", "auth.group"),
            (_("Sites"), "language", "sites.site"),
            (_("Social application tokens"), "token", "socialaccount.socialtoken"),
            (_("Outstanding refresh tokens"), "vpn_key", "token_blacklist.outstandingtoken"),
            (_("Blacklisted refresh tokens"), "block", "token_blacklist.blacklistedtoken"),
        ],
    ),
]


def _target(target: str) -> tuple[str, str | None]:
    """A URL and the permission that shows it, for a model label or a URL name."""
    if "." in target and ":" not in target:
        app_label, model_name = target.split(".")
        return reverse(f"admin:{app_label}_{model_name}_changelist"), f"{app_label}.view_{model_name}"
    return reverse(target), None


def sidebar_navigation(request) -> list[dict]:
    groups = []
    for title, collapsible, entries in SIDEBAR:
        items = []
        for item_title, icon, target in entries:
            try:
                link, permission = _target(target)
            except NoReverseMatch:  # a model whose admin is not registered (e.g. unused library)
                continue
            items.append(
                {
                    "title": item_title,
                    "icon": icon,
                    "link": link,
                    "permission": (lambda request, perm=permission: perm is None or request.user.has_perm(perm)),
                }
            )
        groups.append({"title": title, "separator": True, "collapsible": collapsible, "items": items})
    return groups


def restyle_library_admins(site=admin.site) -> None:
    """Give the admins that libraries register (auth, sites, allauth, simplejwt, axes, auditlog)
    unfold's look: the same class with unfold's ModelAdmin mixed in."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, ModelAdmin):
            continue
        styled = type(type(model_admin).__name__, (type(model_admin), ModelAdmin), {})
        site.unregister(model)
        site.register(model, styled)
