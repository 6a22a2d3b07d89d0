"""The operator console: django-unfold, the audit trail, import/export."""

# --- Admin console (django-unfold; console/) ------------------------------------------------
# Where a sign-in with no "next" lands: unfold's login form carries none, and Django's default
# (/accounts/profile/) does not exist here. Only the admin signs in through Django's login view.
LOGIN_REDIRECT_URL = "admin:index"
UNFOLD = {
    # Functions of the request (console/site.py): the site's name (SITE_NAME) in the staff member's language.
    "SITE_TITLE": "console.site.site_title",
    "SITE_HEADER": "console.site.site_header",
    "SITE_SUBHEADER": "console.site.site_subheader",
    "SITE_SYMBOL": "forum",
    "SITE_URL": "/",
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "console.dashboard.admin_home_context",
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "console.sidebar.sidebar_navigation",
    },
}
# The audit trail (django-auditlog): what staff manage, not the chat traffic itself. The admin
# records who made each change (ConsoleAdminSite); addresses come from our proxy-aware client_ip.
AUDITLOG_DISABLE_REMOTE_ADDR = False
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {"model": "accounts.user", "exclude_fields": ["password", "last_login", "updated_at"]},
    # Only what is billing history: a theme or language change is not an audit event.
    {"model": "accounts.usersettings", "include_fields": ["plan", "plan_renews_at", "auto_renew"]},
    "accounts.plan",
    {"model": "accounts.apikey", "exclude_fields": ["last_used_at", "key_hash"]},
    {"model": "conversations.llmmodel", "m2m_fields": ["plans"]},
    "conversations.prompt",
    "sharing.sample",
    "knowledge.embeddingsettings",
    # Its listing (tools, listed_at) is what the server said, not a staff change.
    # Headers hold variables' names, never secrets; masked all the same, like any credential field.
    {
        "model": "tools.toolserver",
        "m2m_fields": ["plans"],
        "exclude_fields": ["tools", "listed_at", "updated_at"],
        "mask_fields": ["headers"],
    },
    {"model": "socialaccount.socialapp", "mask_fields": ["secret"]},
)
AUDITLOG_MASK_CALLABLE = "console.audit.mask_whole"
# Exported CSV cells a spreadsheet would run as formulas (=, +, -, @, tab, CR first) are quoted by
# the admin's CSV format (console/spreadsheets.py). The library's own escaping is off: it removed
# one leading "=" only, and from JSON exports too (changing the data, protecting nothing).
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False
