"""The console's sidebar, grouped by task: ``UNFOLD["SIDEBAR"]["navigation"]`` names
:func:`sidebar_navigation`. Each entry shows to staff who may view what it links to."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

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
            (_("Embeddings for knowledge"), "hub", "knowledge.embeddingsettings"),
            (_("Tool servers"), "build", "tools.toolserver"),
            (_("Tool calls"), "construction", "tools.toolcall"),
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
            (_("Files"), "attach_file", "files.storedfile"),
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
