from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from core import serializers as core_serializers
from core.openapi import CatalogSlugField
from core.serializers import InputSerializer

from ..models import ApiKey, Device, Plan, Theme, User, UserSettings
from ..preferences import SUPPORTED_LANGUAGES, available_time_zones
from ..services import API_KEY_NAME_MAX_LENGTH
from ..validators import DEVICE_ID_MAX_LENGTH, validate_device_id


def selectable_plans():
    return Plan.objects.filter(selectable_by_user=True).values_list("slug", flat=True)


class DeviceIdField(serializers.CharField):
    """A client-chosen device id (the one rule: ``accounts.validators.validate_device_id``).

    Optional; blank means "generate one". A malformed id is a 400 naming the field.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", DEVICE_ID_MAX_LENGTH)
        kwargs.setdefault("help_text", "Client-chosen id of this device; generated when missing.")
        super().__init__(**kwargs)
        self.validators.append(validate_device_id)


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "email", "display_name", "is_staff", "date_joined")
        read_only_fields = fields


class UserUpdateSerializer(InputSerializer):
    display_name = serializers.CharField(max_length=150, allow_blank=True)


class RegisterSerializer(InputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class LoginSerializer(InputSerializer):
    """JSON ``{email, password}`` or the OAuth2 password form (``username``) Swagger sends."""

    email = serializers.CharField(max_length=254, required=False)
    username = serializers.CharField(max_length=254, required=False, help_text="Alias of email (form login).")
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    device_id = DeviceIdField()
    device_name = serializers.CharField(max_length=128, required=False, allow_blank=True)
    grant_type = serializers.CharField(max_length=20, required=False, help_text="Ignored (OAuth2 form).")

    def validate(self, attrs):
        email = attrs.get("email") or attrs.get("username")
        if not email:
            raise serializers.ValidationError({"email": [_("This field is required.")]})
        attrs["email"] = User.objects.normalize_email(email)
        return attrs


# The one-time code a finished provider redirect gave (social/exchange.py). A comment, not a
# docstring: a docstring would become its description in the OpenAPI document.
class SocialExchangeSerializer(InputSerializer):
    code = serializers.CharField(max_length=128)
    device_id = DeviceIdField(help_text="Optional; when sent, the device id given when the flow started.")
    device_name = serializers.CharField(max_length=128, required=False, allow_blank=True)


class DeviceSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = Device
        fields = ("id", "device_id", "login_type", "name", "user_agent", "ip", "created_at", "last_seen_at", "current")
        read_only_fields = fields

    def get_current(self, obj) -> bool:
        current = self.context.get("current_device")
        return bool(current and current.pk == obj.pk)


class DeviceBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Device
        fields = ("id", "device_id", "login_type")
        read_only_fields = fields


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token_type = serializers.CharField(help_text='Always "Bearer" (RFC 6749 5.1).')
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


class LoginResponseSerializer(TokenPairSerializer):
    device = DeviceBriefSerializer()
    user = UserSerializer()
    access_token = serializers.CharField(
        required=False, help_text="Same as `access`; only in the answer to the OAuth2 password form (RFC 6749 5.1)."
    )
    refresh_token = serializers.CharField(
        required=False, help_text="Same as `refresh`; only in the answer to the OAuth2 password form (RFC 6749 5.1)."
    )


class RegisterResponseSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="The same words whether or not the email already had an account.")


class PasswordRuleSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Stable name of the rule: `min_length`, `digit`, `uppercase`, `not_common`, `not_numeric`, "
        "`not_similar` (others if the server adds validators)."
    )
    text = serializers.CharField(help_text="The rule in words, in the request's language.")


class PasswordRulesSerializer(serializers.Serializer):
    rules = PasswordRuleSerializer(many=True)


class RefreshSerializer(InputSerializer):
    refresh = serializers.CharField(max_length=4096)


class LogoutSerializer(InputSerializer):
    all = serializers.BooleanField(default=False, help_text="Sign out every device, not just this one.")


class PasswordChangeSerializer(InputSerializer):
    old_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = (
            "slug",
            "name",
            "daily_message_limit",
            "max_concurrent_generations",
            "storage_limit_bytes",
            "selectable_by_user",
        )
        read_only_fields = fields


# --- API keys -------------------------------------------------------------------------------

# A name with something to read: at least one character that is neither whitespace nor a control
# character (the service drops control characters and folds whitespace, core.titles), no NUL.
API_KEY_NAME_PATTERN = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$"


class ApiKeySerializer(serializers.ModelSerializer):
    """A key as lists show it: never the secret, only its first characters (``prefix``)."""

    class Meta:
        model = ApiKey
        fields = ("id", "name", "prefix", "created_at", "expires_at", "last_used_at")
        read_only_fields = fields
        extra_kwargs = {
            "prefix": {"help_text": 'The first 10 characters of the key ("sk-" and 7 more), to recognise it.'},
            "expires_at": {"help_text": "When the key stops working; null: never."},
            "last_used_at": {"help_text": "Last request made with it (updated at most once a minute); null: never."},
        }


class ApiKeyCreatedSerializer(ApiKeySerializer):
    """A key just made, with its secret: the only time the secret is shown."""

    # The secret comes in the context (``secret``): the row holds only its hash.
    key = serializers.SerializerMethodField(
        help_text="The secret (`Authorization: Bearer sk-...`). Shown only in this answer: only its hash is stored."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = (*ApiKeySerializer.Meta.fields, "key")
        read_only_fields = fields

    def get_key(self, obj) -> str:
        return self.context["secret"]


class ApiKeyCreateSerializer(InputSerializer):
    """A new key: its name, and when it stops working (never, if left out)."""

    name = serializers.RegexField(
        API_KEY_NAME_PATTERN,
        max_length=API_KEY_NAME_MAX_LENGTH,
        help_text="What the key is for (one line; control characters are dropped).",
        error_messages={"invalid": gettext_lazy("Give the key a name with something to read.")},
    )
    expires_at = core_serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="When the key stops working (future); null: never."
    )


# --- settings -------------------------------------------------------------------------------


class ThemeSerializer(InputSerializer):
    theme = serializers.ChoiceField(choices=Theme.choices)


class NotificationSerializer(InputSerializer):
    email_notifications = serializers.BooleanField()
    push_notifications = serializers.BooleanField()
    product_updates = serializers.BooleanField()


class LanguageField(serializers.ChoiceField):
    """One of the languages the service speaks, or "" (follow the browser): an enum in the schema."""

    def __init__(self, **kwargs):
        super().__init__(choices=["", *SUPPORTED_LANGUAGES], **kwargs)

    def to_internal_value(self, data):
        if data not in self.choices:
            raise serializers.ValidationError(
                _("The service does not speak %(language)s; choose one of: %(choices)s.")
                % {"language": str(data)[:20], "choices": ", ".join(SUPPORTED_LANGUAGES)},
                code="language_unsupported",
            )
        return data


class TimeZoneField(serializers.ChoiceField):
    """An IANA time zone name, or "" (UTC): the zones Python knows, an enum in the schema."""

    def __init__(self, **kwargs):
        super().__init__(choices=["", *sorted(available_time_zones())], **kwargs)

    def to_internal_value(self, data):
        if data not in self.choices:
            raise serializers.ValidationError(
                _("Unknown time zone: give an IANA name such as Asia/Seoul."), code="time_zone_unknown"
            )
        return data


class UserSettingsSerializer(InputSerializer):
    theme = serializers.ChoiceField(choices=Theme.choices)
    language = LanguageField(
        help_text='The language the service speaks to this user: "ko" or "en"; "" follows the browser '
        "(Accept-Language)."
    )
    time_zone = TimeZoneField(
        required=False,
        help_text='IANA time zone ("Asia/Seoul"): dates are shown and the daily quota turns over in it; "" is UTC.',
    )
    custom_instructions = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=settings.CUSTOM_INSTRUCTIONS_MAX_CHARS,
        trim_whitespace=False,
        help_text="About you and how to answer: placed before every chat's own system prompt.",
    )
    email_notifications = serializers.BooleanField()
    push_notifications = serializers.BooleanField()
    product_updates = serializers.BooleanField()
    plan = CatalogSlugField(slugs=selectable_plans, max_length=40)
    auto_renew = serializers.BooleanField()
    plan_renews_at = core_serializers.DateTimeField(read_only=True, allow_null=True)

    def to_representation(self, instance: UserSettings):
        data = {
            f: getattr(instance, f)
            for f in (
                "theme",
                "language",
                "time_zone",
                "custom_instructions",
                "email_notifications",
                "push_notifications",
                "product_updates",
                "auto_renew",
            )
        }
        data["plan"] = instance.plan.slug
        data["plan_renews_at"] = (
            core_serializers.DateTimeField().to_representation(instance.plan_renews_at)
            if instance.plan_renews_at
            else None
        )
        return data


class StaffUserSettingsSerializer(UserSettingsSerializer):
    plan = serializers.SlugField(max_length=40, help_text="Slug of the plan (staff may grant any).")
    plan_renews_at = core_serializers.DateTimeField(allow_null=True, required=False)


# --- deleting the account -------------------------------------------------------------------


class AccountDeleteSerializer(InputSerializer):
    """The confirmation of an account's deletion: its password, or the phrase when it has none."""

    password = serializers.CharField(
        max_length=128,
        trim_whitespace=False,
        required=False,
        help_text="Your current password (required when the account has one).",
    )
    confirm = serializers.CharField(
        max_length=300,
        required=False,
        help_text=(
            "Only for an account without a password (signed up with Google, GitHub, Kakao or Naver): "
            "the words `DELETE` and your email, e.g. `DELETE ann@example.com`."
        ),
    )
