import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .validators import DEVICE_ID_MAX_LENGTH


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # The whole address is folded: logins are case-insensitive and so is uniqueness.
        return (email or "").strip().lower()

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email address"), max_length=254, unique=True)
    display_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ("id",)
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    def clean(self):
        super().clean()
        self.email = User.objects.normalize_email(self.email)


# Every plan's storage unless staff set another (the seeded Free, Plus and Pro get it too).
DEFAULT_STORAGE_LIMIT_BYTES = 1024**3


class Plan(models.Model):
    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    daily_message_limit = models.PositiveIntegerField(
        help_text=_("Messages a user may send per day (UTC). 0 means unlimited.")
    )
    max_concurrent_generations = models.PositiveSmallIntegerField(default=1)
    storage_limit_bytes = models.PositiveBigIntegerField(
        default=DEFAULT_STORAGE_LIMIT_BYTES,
        help_text=_("Bytes of files a user may store (collector files; accounts/storage.py). 0 means unlimited."),
    )
    daily_tool_call_limit = models.PositiveIntegerField(
        default=200,
        help_text=_("Tool calls (MCP tools, web searches) a user's replies may make per day (UTC). 0 means unlimited."),
    )
    selectable_by_user = models.BooleanField(default=True, help_text=_("Users may switch to this plan themselves."))
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("order", "id")

    def __str__(self) -> str:
        return self.name


class Theme(models.TextChoices):
    LIGHT = "light", _("Light")
    DARK = "dark", _("Dark")
    SYSTEM = "system", _("System")


class UserSettings(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="settings")
    theme = models.CharField(max_length=10, choices=Theme.choices, default=Theme.SYSTEM)
    # "" = not chosen: the browser's language is used (accounts/preferences.py).
    language = models.CharField(max_length=16, default="", blank=True)
    # IANA name ("Asia/Seoul"); "" = not known yet (the client sets it from the browser): UTC.
    time_zone = models.CharField(max_length=64, default="", blank=True)
    # Placed before every chat's own system prompt (about me / how to answer).
    custom_instructions = models.TextField(default="", blank=True)
    email_notifications = models.BooleanField(default=True)
    push_notifications = models.BooleanField(default=False)
    product_updates = models.BooleanField(default=False)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscribers")
    plan_renews_at = models.DateTimeField(null=True, blank=True)
    auto_renew = models.BooleanField(default=False)
    # Staff "reset today's quota": messages sent before this moment no longer count today
    # (conversations.quota is the one rule).
    quota_reset_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = _("user settings")

    def __str__(self) -> str:
        return f"settings of {self.user_id}"


class LoginType(models.TextChoices):
    LOCAL = "local", _("Local")
    GOOGLE = "google", "Google"
    GITHUB = "github", "Github"
    KAKAO = "kakao", _("Kakao")
    NAVER = "naver", _("Naver")


class DeviceQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class Device(models.Model):
    """One login session. Every token carries its id (``sid``) and family (``fam``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="devices")
    device_id = models.CharField(max_length=DEVICE_ID_MAX_LENGTH, help_text=_("Chosen by the client, or generated."))
    login_type = models.CharField(max_length=10, choices=LoginType.choices, default=LoginType.LOCAL)
    name = models.CharField(max_length=128, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # A new family on every login on this device: tokens of an older login stop working.
    token_family = models.UUIDField(default=uuid.uuid4)
    # The only refresh token of this family that may still be used; anything else is reuse.
    refresh_jti = models.CharField(max_length=64, blank=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ("-last_seen_at",)
        constraints = [
            models.UniqueConstraint(fields=("user", "login_type", "device_id"), name="accounts_device_unique_per_login")
        ]
        indexes = [models.Index(fields=("user", "revoked_at"))]

    def __str__(self) -> str:
        return f"{self.name or self.device_id} ({self.login_type})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiKeyQuerySet(models.QuerySet):
    def usable(self, now=None):
        """Keys that still open the API: not revoked, not expired, their user active."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, user__is_active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    """A personal key for the OpenAI-compatible API (``Authorization: Bearer sk-...``).

    Only a SHA-256 of the secret is kept (the secret is random, so no slow hash is needed); the
    ``prefix`` (its first characters) lets people tell their keys apart.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text=_("The first characters of the key, to recognise it."))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("API key")
        indexes = [models.Index(fields=("user", "revoked_at"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
