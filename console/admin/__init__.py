"""The console's admins: each replaces a domain app's plain admin of its own models with a
subclass that adds the operator's features. Imported by the admin's autodiscovery after the
domain apps' admin modules (console comes after them in INSTALLED_APPS; each module imports the
admins it extends anyway)."""

from . import accounts, conversations, files, tools  # noqa: F401 (each registers its admins)
