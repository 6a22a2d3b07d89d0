from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    # allauth's own "account" app is also called "Accounts" in the admin; keep ours apart.
    verbose_name = "Users and sessions"

    def ready(self) -> None:
        from . import lockout, schema  # noqa: F401  (signal receivers; the OpenAPI auth extension)
