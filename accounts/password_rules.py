"""The password rules as people read them (``GET /api/v1/auth/password-rules``), made from the
validators the server enforces (``AUTH_PASSWORD_VALIDATORS``): one source, so a hint can neither
miss a rule nor promise one that is not checked.

Each validator says which rules it enforces (``rules()`` on our own validators; Django's are
mapped below by class). A validator this module does not know still shows, with its own help text.
"""

from dataclasses import dataclass

from django.contrib.auth import password_validation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# The order hints are shown in: the rules one can check while typing first.
ORDER = ("min_length", "digit", "uppercase", "not_common", "not_numeric", "not_similar")


@dataclass(frozen=True)
class PasswordRule:
    code: str
    text: str


def _django_rules(validator) -> list[PasswordRule] | None:
    """Short hints for Django's own validators (their help texts are whole sentences)."""
    if isinstance(validator, password_validation.MinimumLengthValidator):
        n = validator.min_length
        text = ngettext("At least %(count)d character", "At least %(count)d characters", n) % {"count": n}
        return [PasswordRule("min_length", text)]
    if isinstance(validator, password_validation.CommonPasswordValidator):
        return [PasswordRule("not_common", _("Not a commonly used password"))]
    if isinstance(validator, password_validation.NumericPasswordValidator):
        return [PasswordRule("not_numeric", _("Not entirely numeric"))]
    if isinstance(validator, password_validation.UserAttributeSimilarityValidator):
        return [PasswordRule("not_similar", _("Not too similar to your email or name"))]
    return None


def password_rules() -> list[PasswordRule]:
    """Every rule of the configured validators, in the language of the request."""
    rules: list[PasswordRule] = []
    for validator in password_validation.get_default_password_validators():
        if hasattr(validator, "rules"):
            found = list(validator.rules())
        else:
            found = _django_rules(validator)
            if found is None:  # a validator added later: its own words, under its class's name
                found = [PasswordRule(type(validator).__name__, str(validator.get_help_text()))]
        rules.extend(found)
    position = {code: i for i, code in enumerate(ORDER)}
    return sorted(rules, key=lambda rule: position.get(rule.code, len(ORDER)))
