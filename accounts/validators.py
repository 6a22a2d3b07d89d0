import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class DigitAndUppercaseValidator:
    """At least one digit and one upper-case letter (on top of Django's validators)."""

    def validate(self, password: str, user=None) -> None:
        errors = []
        if not re.search(r"\d", password):
            errors.append(ValidationError(_("The password must contain at least one digit."), code="password_no_digit"))
        if not re.search(r"[A-Z]", password):
            errors.append(
                ValidationError(
                    _("The password must contain at least one upper-case letter."), code="password_no_upper"
                )
            )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return _("Your password must contain at least one digit and one upper-case letter.")

    def rules(self):
        """The hints of ``GET /auth/password-rules`` (accounts.password_rules)."""
        from .password_rules import PasswordRule

        return [
            PasswordRule("digit", _("At least one digit")),
            PasswordRule("uppercase", _("At least one upper-case letter")),
        ]


# --- device ids ------------------------------------------------------------------------------
# One rule for every place a client names its device: the password login, allauth's app
# endpoints (X-Device-ID header or device_id form field) and the social code exchange.
# ASCII only (the same id must survive headers, logs and URLs unchanged); the length is
# Device.device_id's max_length. The ids the server generates (token_urlsafe) satisfy it too.
DEVICE_ID_MAX_LENGTH = 128
DEVICE_ID_RULE = format_lazy(
    gettext_lazy("Use 1-{max_length} ASCII letters, digits, '.', '_', ':' or '-'."), max_length=DEVICE_ID_MAX_LENGTH
)

validate_device_id = RegexValidator(
    rf"\A[A-Za-z0-9._:-]{{1,{DEVICE_ID_MAX_LENGTH}}}\Z", message=DEVICE_ID_RULE, code="device_id_invalid"
)


def clean_device_id(value: object) -> str | None:
    """A client-chosen device id, surrounding whitespace trimmed; None when absent or blank.

    Raises ``ValidationError({"device_id": [...]})`` (code ``device_id_invalid``) otherwise.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError({"device_id": [ValidationError(DEVICE_ID_RULE, code="device_id_invalid")]})
    value = value.strip()
    if not value:
        return None
    try:
        validate_device_id(value)
    except ValidationError as exc:
        raise ValidationError({"device_id": [exc]}) from None
    return value
