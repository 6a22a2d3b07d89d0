"""Writes for accounts: users, settings, plans, device sessions and API keys (keyword-only, transactional)."""

import hashlib
import logging
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from core.exceptions import Conflict, NotPermitted
from core.services import save_changed
from core.titles import title_clean

from . import lockout
from .models import ApiKey, Device, LoginType, Plan, User, UserSettings
from .preferences import mail_language
from .signals import account_deleting
from .tokens import FAMILY_CLAIM, SESSION_ID_CLAIM, TokenInvalid, TokenPair, decode_refresh, token_pair_for_device

logger = logging.getLogger(__name__)


class TokenReused(Exception):
    """An already-rotated refresh token was presented; its device session has been revoked."""


@dataclass(frozen=True)
class IssuedSession:
    device: Device
    tokens: TokenPair


# --- users ----------------------------------------------------------------------------------


def _default_plan() -> Plan:
    plan = Plan.objects.filter(slug="free").first() or Plan.objects.order_by("order", "id").first()
    if plan is None:  # only possible if the plans data migration was rolled back
        plan = Plan.objects.create(slug="free", name="Free", daily_message_limit=50, max_concurrent_generations=1)
    return plan


@transaction.atomic
def user_create(
    *, email: str, password: str | None, display_name: str = "", is_staff: bool = False, is_superuser: bool = False
) -> User:
    email = User.objects.normalize_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": [_("A user with this email already exists.")]}, code="email_taken")
    user = User(email=email, display_name=display_name.strip(), is_staff=is_staff, is_superuser=is_superuser)
    if password is None:
        user.set_unusable_password()  # social-only accounts
    else:
        _password_set(user, password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent registration won the race
        raise ValidationError({"email": [_("A user with this email already exists.")]}, code="email_taken") from exc
    UserSettings.objects.create(user=user, plan=_default_plan())
    return user


def _password_set(user: User, password: str) -> None:
    """The password rules (a 400 naming ``password``), then the hash."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}, code="password_invalid") from exc
    user.set_password(password)


# The owner of an email someone tries to register again hears of it at most this often.
REGISTRATION_NOTICE_INTERVAL = timedelta(hours=1)


def user_register(*, email: str, password: str, display_name: str = "", site_url: str) -> None:
    """Self-service sign-up that never says whether the email already has an account (OWASP ASVS
    5.0: registration must not reveal valid users by message, status or time). Returns nothing on
    purpose.

    A new email gets its account. A taken one changes nothing, and its owner is mailed a notice
    (by the job worker, at most once per ``REGISTRATION_NOTICE_INTERVAL``). Both take the same
    steps a caller could time: the password rules (the same 400 either way, checked against the
    email as given) and one password hash; the mail is never sent inside the request. Whoever
    registered then signs in: with a taken email that fails as any wrong password does.
    """
    email = User.objects.normalize_email(email)
    user = User(email=email, display_name=display_name.strip())
    _password_set(user, password)  # hashed whether or not it is kept: no timing tell
    owner = User.objects.filter(email__iexact=email).first()
    if owner is None:
        try:
            with transaction.atomic():
                user.save()
                UserSettings.objects.create(user=user, plan=_default_plan())
            return
        except IntegrityError:  # a concurrent registration of the same email won the race
            owner = User.objects.filter(email__iexact=email).first()
    if owner is not None and owner.is_active:
        _registration_notice_queue(owner=owner, site_url=site_url)


def _registration_notice_queue(*, owner: User, site_url: str) -> None:
    if not cache.add(f"accounts:registration-notice:{owner.pk}", 1, REGISTRATION_NOTICE_INTERVAL.total_seconds()):
        return
    from .tasks import registration_notice_job

    try:
        # The job has no request: it is told the request's language (the owner's saved one wins).
        registration_notice_job.enqueue(owner.pk, site_url, translation.get_language())
    except Exception:  # the answer must not change because a notice could not be queued
        logger.exception("registration notice for user %s could not be queued", owner.pk)


def mail_deliver_later(message) -> None:
    """Queue a rendered mail (an ``EmailMessage``, HTML alternatives kept) for the job worker; if it
    cannot be queued, send it now rather than lose it."""
    from .tasks import mail_deliver_job

    data = {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "alternatives": [[content, mimetype] for content, mimetype in getattr(message, "alternatives", [])],
    }
    try:
        mail_deliver_job.enqueue(data)
    except Exception:
        logger.exception("a mail could not be queued; sending it in the request")
        mail_deliver(message=data)


def mail_deliver(*, message: dict) -> None:
    from django.core.mail import EmailMultiAlternatives

    mail = EmailMultiAlternatives(message["subject"], message["body"], message["from_email"], message["to"])
    for content, mimetype in message.get("alternatives") or []:
        mail.attach_alternative(content, mimetype)
    mail.send()


def registration_notice_send(*, user_id: int, site_url: str, language: str | None = None) -> None:
    """Tell an account's owner that someone tried to register its email (the job's work), in the
    owner's saved language, else ``language`` (the registering request's)."""
    owner = User.objects.filter(pk=user_id, is_active=True).select_related("settings").first()
    if owner is None:
        return
    context = {"email": owner.email, "site_url": site_url, "site_name": settings.SITE_NAME}
    with translation.override(mail_language(owner, fallback=language or settings.LANGUAGE_CODE)):
        subject = " ".join(render_to_string("accounts/email/registration_notice_subject.txt", context).split())
        body = render_to_string("accounts/email/registration_notice_message.txt", context)
    send_mail(f"[{settings.SITE_NAME}] {subject}", body, None, [owner.email])


def user_settings_get(*, user: User) -> UserSettings:
    settings_row = UserSettings.objects.select_related("plan").filter(user=user).first()
    if settings_row is None:  # users created outside user_create (e.g. createsuperuser)
        settings_row, _created = UserSettings.objects.get_or_create(user=user, defaults={"plan": _default_plan()})
    return settings_row


@transaction.atomic
def user_update(*, user: User, display_name: str | None = None) -> User:
    if display_name is not None:
        save_changed(user, display_name=display_name.strip())
    return user


SETTINGS_USER_FIELDS = (
    "theme",
    "language",
    "time_zone",
    "custom_instructions",
    "email_notifications",
    "push_notifications",
    "product_updates",
    "auto_renew",
)
SETTINGS_STAFF_FIELDS = ("plan_renews_at",)


@transaction.atomic
def user_settings_update(*, user: User, by_staff: bool = False, **changes) -> UserSettings:
    """Update only what changed. ``plan`` (a slug) goes through the subscription rules."""
    row = UserSettings.objects.select_for_update().select_related("plan").get(pk=user_settings_get(user=user).pk)
    allowed = SETTINGS_USER_FIELDS + (SETTINGS_STAFF_FIELDS if by_staff else ())
    plan_slug = changes.pop("plan", None)
    for name in changes:
        if name not in allowed:
            raise ValidationError({name: [_("This field cannot be changed.")]}, code="read_only")
    if plan_slug is not None and plan_slug != row.plan.slug:
        changes["plan"] = _plan_for_switch(plan_slug=plan_slug, by_staff=by_staff)
        if not by_staff and "plan_renews_at" not in changes:
            changes["plan_renews_at"] = None
    save_changed(row, validate=True, **changes)
    return row


def _plan_for_switch(*, plan_slug: str, by_staff: bool) -> Plan:
    plan = Plan.objects.filter(slug=plan_slug).first()
    if plan is None:
        raise ValidationError({"plan": [_("Unknown plan '%(plan)s'.") % {"plan": plan_slug}]}, code="plan_unknown")
    if not by_staff and not plan.selectable_by_user:
        # Well-formed but not yours to choose (staff grant it): 403, not a 400.
        raise NotPermitted(
            _("The plan '%(plan)s' cannot be selected; staff grant it.") % {"plan": plan_slug},
            code="plan_not_selectable",
        )
    return plan


# --- sessions -------------------------------------------------------------------------------


def _clip(value: str | None, length: int) -> str:
    return (value or "")[:length]


@transaction.atomic
def session_start(
    *,
    user: User,
    login_type: str = LoginType.LOCAL,
    device_id: str | None = None,
    device_name: str = "",
    user_agent: str = "",
    ip: str | None = None,
) -> IssuedSession:
    """Sign ``user`` in on one device. Logging in again on a device replaces its tokens."""
    if login_type not in LoginType.values:
        raise ValidationError({"login_type": [_("Unknown login type.")]})
    device_id = device_id or secrets.token_urlsafe(16)
    now = timezone.now()
    # get_or_create survives two first logins on one device (a double-submitted form): the
    # loser's INSERT hits the unique constraint and it reads the winner's row instead of a 500.
    # The row lock then makes the logins take turns.
    row, _created = Device.objects.get_or_create(user=user, login_type=login_type, device_id=device_id)
    device = Device.objects.select_for_update().get(pk=row.pk)
    device.name = _clip(device_name, 128) or device.name
    device.user_agent = _clip(user_agent, 512)
    device.ip = ip
    device.last_seen_at = now
    device.revoked_at = None
    device.token_family = uuid.uuid4()  # every older token of this device stops working
    device.user = user
    tokens = token_pair_for_device(device)
    device.refresh_jti = tokens.refresh_jti
    device.save()
    return IssuedSession(device=device, tokens=tokens)


def session_refresh(*, refresh_token: str, ip: str | None = None, user_agent: str = "") -> IssuedSession:
    """Rotate a refresh token. Presenting a rotated one revokes its device (``TokenReused``),
    except within ``JWT_REFRESH_REUSE_SECONDS`` of its rotation, when it returns the same new pair.

    The device row is locked, so of concurrent refreshes of one token exactly one rotates it; the
    others then find the pair it made (the reuse interval, as Auth0 and Okta do), so a race of
    tabs keeps the session. A replay after the interval is reuse.
    """
    claims = decode_refresh(refresh_token)
    reused = False
    with transaction.atomic():
        device = (
            Device.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=_uuid_or_none(claims[SESSION_ID_CLAIM]), user_id=claims[jwt_settings.USER_ID_CLAIM])
            .first()
        )
        if (
            device is None
            or device.revoked_at is not None
            or not device.user.is_active
            or str(device.token_family) != claims[FAMILY_CLAIM]
        ):
            raise TokenInvalid("Token is invalid or expired")
        if claims[jwt_settings.JTI_CLAIM] != device.refresh_jti:
            tokens = _rotated_recently(claims[jwt_settings.JTI_CLAIM])
            if tokens is not None:
                return IssuedSession(device=device, tokens=tokens)
            _revoke_devices(Device.objects.filter(pk=device.pk))
            reused = True
        else:
            tokens = token_pair_for_device(device)
            _remember_rotation(device.refresh_jti, tokens)
            _blacklist_jtis([device.refresh_jti])
            device.refresh_jti = tokens.refresh_jti
            device.last_seen_at = timezone.now()
            device.ip = ip or device.ip
            device.user_agent = _clip(user_agent, 512) or device.user_agent
            device.save(update_fields=["refresh_jti", "last_seen_at", "ip", "user_agent"])
    if reused:
        logger.warning("Refresh token reuse detected; device %s revoked", device.pk)
        raise TokenReused()
    return IssuedSession(device=device, tokens=tokens)


def _rotation_key(jti: str) -> str:
    return f"refresh-rotated:{jti}"


def _remember_rotation(old_jti: str, tokens) -> None:
    # Written while the device row is locked, so a racing refresh that waited on the lock finds it.
    if settings.JWT_REFRESH_REUSE_SECONDS > 0:
        try:
            cache.set(_rotation_key(old_jti), tokens, settings.JWT_REFRESH_REUSE_SECONDS)
        except Exception:  # without the cache a race is reuse, as before: safe, only less kind
            logger.warning("could not remember a refresh rotation", exc_info=True)


def _rotated_recently(jti: str):
    if settings.JWT_REFRESH_REUSE_SECONDS <= 0:
        return None
    try:
        return cache.get(_rotation_key(jti))
    except Exception:
        logger.warning("could not read a refresh rotation", exc_info=True)
        return None


def _uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _blacklist_jtis(jtis: list[str]) -> None:
    tokens = OutstandingToken.objects.filter(jti__in=[j for j in jtis if j]).exclude(blacklistedtoken__isnull=False)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=t) for t in tokens], ignore_conflicts=True)


def _revoke_devices(devices) -> int:
    # select_related(None): an admin queryset joins the user, which .only() would refuse.
    devices = list(devices.filter(revoked_at__isnull=True).select_related(None).only("id", "refresh_jti"))
    if not devices:
        return 0
    _blacklist_jtis([d.refresh_jti for d in devices])
    return Device.objects.filter(pk__in=[d.pk for d in devices]).update(revoked_at=timezone.now())


@transaction.atomic
def device_revoke(*, device: Device) -> None:
    _revoke_devices(Device.objects.filter(pk=device.pk))


@transaction.atomic
def devices_revoke(*, devices) -> int:
    """Revoke a queryset of devices (admin bulk action); returns how many were live."""
    return _revoke_devices(devices)


@transaction.atomic
def devices_revoke_all(*, user: User, keep: Device | None = None) -> int:
    devices = Device.objects.filter(user=user)
    if keep is not None:
        devices = devices.exclude(pk=keep.pk)
    return _revoke_devices(devices)


@transaction.atomic
def password_change(*, user: User, current_device: Device | None, old_password: str, new_password: str) -> None:
    if not user.check_password(old_password):
        raise ValidationError({"old_password": [_("The current password is not correct.")]}, code="password_incorrect")
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}, code="password_invalid") from exc
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    # Sessions only: API keys are separate credentials the user made on purpose (for scripts and
    # tools), not derived from the password, so a password change leaves them working; the user
    # revokes those one by one (DELETE /api-keys/{id}).
    devices_revoke_all(user=user, keep=current_device)


@transaction.atomic
def users_deactivate(*, users) -> int:
    """Deactivate and sign out everywhere (admin bulk action): sessions and API keys end at once.

    (An inactive user's keys already stop working, ``ApiKey.objects.usable()``; revoking them too
    means reactivating the account does not bring them back.)"""
    ids = list(users.values_list("id", flat=True))
    count = User.objects.filter(id__in=ids, is_active=True).update(is_active=False, updated_at=timezone.now())
    _revoke_devices(Device.objects.filter(user_id__in=ids))
    _revoke_api_keys(ApiKey.objects.filter(user_id__in=ids))
    return count


@transaction.atomic
def users_reactivate(*, users) -> int:
    return users.filter(is_active=False).update(is_active=True, updated_at=timezone.now())


# --- API keys -------------------------------------------------------------------------------

API_KEY_START = "sk-"  # every key begins so (as OpenAI's do)
API_KEY_PREFIX_LENGTH = 10  # what lists show: "sk-" and 7 characters of the secret
API_KEY_MAX_CHARS = 200  # anything longer is not one of ours (a secret is 46 characters)
API_KEY_NAME_MAX_LENGTH = ApiKey._meta.get_field("name").max_length
API_KEYS_PER_USER = 50  # live (not revoked) keys; expired ones count until revoked
API_KEY_TOUCH_SECONDS = 60  # last_used_at is written at most this often per key


def api_key_hash(raw: str) -> str:
    """The stored form of a key: the secret is 256 random bits, so SHA-256 is enough (no salt or
    slow hash is needed to stop guessing) and allows looking a key up by its hash."""
    return hashlib.sha256(raw.encode()).hexdigest()


def _api_key_name(name: str | None) -> str:
    try:
        cleaned = title_clean(name, max_length=API_KEY_NAME_MAX_LENGTH)
    except ValidationError as exc:  # title_clean names the field "title"
        raise ValidationError({"name": exc.message_dict["title"]}, code="max_length") from exc
    if not cleaned:
        raise ValidationError({"name": [_("A key needs a name.")]}, code="blank")
    return cleaned


@transaction.atomic
def api_key_create(*, user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """Make a personal API key. Returns the row and the secret, which is shown once: only its
    hash is stored. Refused (409 ``too_many_api_keys``) past ``API_KEYS_PER_USER`` live keys."""
    name = _api_key_name(name)
    now = timezone.now()
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            raise ValidationError({"expires_at": [_("Give a time zone (e.g. 2027-01-01T00:00:00Z).")]}, code="naive")
        if expires_at <= now:
            raise ValidationError({"expires_at": [_("The expiry must be in the future.")]}, code="expires_in_past")
    # The user's row is locked so two concurrent creations cannot both pass the cap.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if ApiKey.objects.filter(user=user, revoked_at__isnull=True).count() >= API_KEYS_PER_USER:
        raise Conflict(
            _("You have %(count)d API keys; revoke one before making another.") % {"count": API_KEYS_PER_USER},
            code="too_many_api_keys",
        )
    raw = API_KEY_START + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=raw[:API_KEY_PREFIX_LENGTH],
        key_hash=api_key_hash(raw),
        expires_at=expires_at,
    )
    return key, raw


def _revoke_api_keys(keys) -> int:
    return keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def api_key_revoke(*, key: ApiKey) -> None:
    """End a key at once; revoking a revoked key changes nothing (its first revocation time stays)."""
    _revoke_api_keys(ApiKey.objects.filter(pk=key.pk))


@transaction.atomic
def api_keys_revoke(*, keys) -> int:
    """Revoke a queryset of keys (admin bulk action); returns how many were live."""
    # select_related(None): an admin queryset joins the user, which an UPDATE cannot carry.
    return _revoke_api_keys(ApiKey.objects.filter(pk__in=keys.select_related(None).values("pk")))


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The usable key ``raw`` is the secret of (with its user and plan), or None.

    One query; ``last_used_at`` is written at most once a minute per key, by a conditional UPDATE,
    so a busy key costs no write on most requests and concurrent requests write it once.
    """
    if not isinstance(raw, str) or not raw.startswith(API_KEY_START) or len(raw) > API_KEY_MAX_CHARS:
        return None
    now = timezone.now()
    key = (
        ApiKey.objects.usable(now=now)
        .select_related("user", "user__settings__plan")
        .filter(key_hash=api_key_hash(raw))
        .first()
    )
    if key is None:
        return None
    stale = now - timedelta(seconds=API_KEY_TOUCH_SECONDS)
    if key.last_used_at is None or key.last_used_at < stale:
        ApiKey.objects.filter(pk=key.pk).filter(
            models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lt=stale)
        ).update(last_used_at=now)
        key.last_used_at = now
    return key


def expired_tokens_purge(*, batch_size: int = 1000, now: datetime | None = None) -> int:
    """Delete expired refresh-token rows (and their blacklist entries) in small batches."""
    return sum(expired_tokens_purge_batches(batch_size=batch_size, now=now))


def expired_tokens_purge_batches(*, batch_size: int = 1000, now: datetime | None = None) -> Iterator[int]:
    """``expired_tokens_purge`` a batch (one transaction) at a time: yields what each deleted."""
    now = now or timezone.now()
    while True:
        ids = list(OutstandingToken.objects.filter(expires_at__lt=now).values_list("id", flat=True)[:batch_size])
        if not ids:
            return
        with transaction.atomic():
            BlacklistedToken.objects.filter(token_id__in=ids).delete()
            deleted = OutstandingToken.objects.filter(id__in=ids).delete()[1].get(OutstandingToken._meta.label, 0)
        yield deleted


def revoked_devices_purge(*, older_than: timedelta, batch_size: int = 1000, now: datetime | None = None) -> int:
    """Delete device sessions revoked longer ago than ``older_than`` (kept until then for audit)."""
    return sum(revoked_devices_purge_batches(older_than=older_than, batch_size=batch_size, now=now))


def revoked_devices_purge_batches(
    *, older_than: timedelta, batch_size: int = 1000, now: datetime | None = None
) -> Iterator[int]:
    """``revoked_devices_purge`` a batch at a time: yields what each deleted."""
    cutoff = (now or timezone.now()) - older_than
    while True:
        ids = list(Device.objects.filter(revoked_at__lt=cutoff).values_list("id", flat=True)[:batch_size])
        if not ids:
            return
        yield Device.objects.filter(id__in=ids).delete()[1].get(Device._meta.label, 0)


# --- deleting an account --------------------------------------------------------------------

ACCOUNT_DELETE_PHRASE = "DELETE {email}"  # what an account without a password types to delete itself


@dataclass(frozen=True)
class AccountDeleted:
    email: str
    conversations: int
    files: int  # stored files removed once the deletion committed


@transaction.atomic
def user_delete(*, user: User) -> AccountDeleted:
    """Delete an account and everything it owns, at once and for good.

    Rows: conversations and their messages, feedback, collector items and tags, todos, shares (the
    user's public links stop working), API keys, device sessions and their refresh tokens, settings,
    social accounts and email addresses, imports and exports, and the failed-password records of
    its email. Files the rows held (collector uploads, imports, exports) are removed from storage
    once the deletion has committed. Replies in flight are told to stop after commit.

    Kept, without the user: samples staff curated from it (``created_by`` becomes empty), the audit
    trail (the actor of the entries it wrote becomes empty), other users' clones of its shares
    (they are copies), the reply ledger's entries (user and key become empty, the source stays: the
    service's usage figures do not change). Every access token of the account stops working at
    once: authentication looks its device session up, which is gone.
    """
    user = User.objects.select_for_update().get(pk=user.pk)  # one deletion at a time
    email = user.email
    # The apps above accounts delete what needs more than the cascade, and say what went.
    removed: dict[str, int] = {}
    for _receiver, answer in account_deleting.send(sender=User, user=user):
        for name, count in (answer or {}).items():
            removed[name] = removed.get(name, 0) + count
    # Refresh tokens point at the user with SET_NULL (simplejwt keeps them for its blacklist):
    # the account's go with it. So do the failed-password records of its email.
    OutstandingToken.objects.filter(user=user).delete()
    lockout.forget_account(email=email)
    user.delete()  # the rest of what it owns goes with the cascade
    logger.info(
        "account %s deleted (%d conversations, %d files)",
        user.pk,
        removed.get("conversations", 0),
        removed.get("files", 0),
    )
    return AccountDeleted(email=email, conversations=removed.get("conversations", 0), files=removed.get("files", 0))


def account_delete_confirmed(*, request, user: User, password: str | None, confirm: str | None) -> AccountDeleted:
    """``DELETE /user``: the account's owner proves it is them, then the account goes. With a password,
    that password (a wrong one counts as a failed sign-in of this account from this address, under
    the same limits as a password change: a stolen session cannot guess on); without one (signed
    up through a social provider), the typed confirmation ``DELETE <email>``."""
    if user.has_usable_password():
        if password is None:
            raise ValidationError({"password": [_("Your current password is required.")]}, code="required")
        if not lockout.check_password(request, user=user, password=password):
            raise ValidationError({"password": [_("The password is not correct.")]}, code="password_incorrect")
    else:
        phrase = ACCOUNT_DELETE_PHRASE.format(email=user.email)
        if (confirm or "").strip() != phrase:
            raise ValidationError(
                {"confirm": [_('This account has no password: send confirm: "%(phrase)s".') % {"phrase": phrase}]},
                code="confirmation_incorrect",
            )
    return user_delete(user=user)
