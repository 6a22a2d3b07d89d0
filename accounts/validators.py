import re

from django.core.exceptions import ValidationError


class DigitAndUppercaseValidator:
    """At least one digit and one upper-case letter (on top of Django's validators)."""

    def validate(self, password: str, user=None) -> None:
        errors = []
        if not re.search(r"\d", password):
            errors.append(ValidationError("The password must contain at least one digit.", code="password_no_digit"))
        if not re.search(r"[A-Z]", password):
            errors.append(
                ValidationError("The password must contain at least one upper-case letter.", code="password_no_upper")
            )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return "Your password must contain at least one digit and one upper-case letter."
