"""Brute-force protection on every password path (NIST SP 800-63B 5.2.2), on django-axes.

Only *failed* password checks count, wherever a password is checked: ``POST /api/v1/auth/login``
(JSON or Swagger's form), ``/admin/login/``, allauth's headless login and re-authentication (all
through ``django.contrib.auth.authenticate``, where axes' backend refuses a locked-out attempt
and its signal handlers record failures), and the current password of a password change
(``check_password`` below). Three limits, from the environment (``config/settings/parts/auth.py``):

* **account + address**: ``LOGIN_FAILURES_PER_ACCOUNT_IP`` (10) failures. This is axes' own rule
  (``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]``, ``AXES_FAILURE_LIMIT``).
* **address**: ``LOGIN_FAILURES_PER_IP`` (50) failures, whatever accounts they name.
* **account**: ``LOGIN_FAILURES_PER_ACCOUNT`` (100) failures from any address within
  ``LOGIN_ACCOUNT_LOCK_MINUTES`` (60), counted in axes' failure log since the account's last
  successful sign-in (``last_login``), except from an address the account knows (below).

The window of the first two is axes' cool-off, ``LOGIN_FAILURE_WINDOW_MINUTES`` (15): axes keeps
one row per account, address and user agent whose count restarts once 15 minutes pass without a
failure, and the first two limits add up the rows with a failure in the last 15 minutes. The
account limit counts single failures of the last 60 minutes. Whatever the limit, a refusal lasts
until enough failures have left its window (``Retry-After`` says when): every lock ends by itself,
so nobody can lock an owner out for good by guessing at their account. Attempts refused meanwhile
check no password, so they neither count nor extend the lockout. Staff lift it at once (the user
admin's action, ``manage.py axes_reset_username``, or deleting its rows under "Access
failures"), and so does the owner by completing a password reset (allauth's ``password_reset``
signal): the reset link is the owner's way back, and it forgets every failure of the account.

**Known addresses** (OWASP's "device cookies", keyed by address since this API has no cookies):
the account limit is not applied from an address the account signed in from in the last
``LOGIN_KNOWN_ADDRESS_DAYS`` (30) days, as its Device rows record it (``Device.ip``, updated at
every sign-in and token refresh; signed-out devices count too, an IPv6 address as its /64). An
attacker spraying guesses from elsewhere cannot lock the owner out of their usual place; the
account + address and address limits still hold there, so from such an address at most
``LOGIN_FAILURES_PER_ACCOUNT_IP`` guesses per 15 minutes reach the account. Only someone sharing
that address could tell that the account exists (its limit does not hold them), and only after
100 failures of their own making.

A success forgets that account's failures from that address (``AXES_RESET_ON_SUCCESS`` with the
pair as the only lockout parameter), never the address's failures on other accounts, so an
attacker cannot reset an address's budget by signing in to an account of their own. Unknown
emails are counted exactly like existing ones, so a lockout reveals nothing about accounts.

A refused attempt answers 429: JSON ``{"detail", "code": "too_many_failed_logins"}`` on the API
and ``/_allauth/``, an HTML page on the admin, with ``Retry-After`` (seconds).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.signals import password_reset
from allauth.core import context
from allauth.headless.account.inputs import ChangePasswordInput as AllauthChangePasswordInput
from allauth.headless.account.views import ChangePasswordView as AllauthChangePasswordView
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import authenticate
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.http import client_ip, is_api_request

from .models import Device, User

LOCKOUT_CODE = "too_many_failed_logins"
_MAX_USERNAME_LENGTH = 254  # AccessAttempt.username holds 255; an email holds at most 254


def counted_address(ip: str | None) -> str | None:
    """An address as failures are counted by it: an IPv6 address as its /64. One host usually
    holds a whole /64, so counting single IPv6 addresses would give an attacker 2**64 fresh
    per-address budgets."""
    try:
        address = ipaddress.ip_address(ip)
    except (TypeError, ValueError):
        return ip
    if address.version == 6 and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return ip


def lockout_address(request) -> str | None:
    """The address failures are counted by: the client's (``client_ip``, the one rule), counted."""

    return counted_address(client_ip(request))


def username_key(request: HttpRequest | None, credentials: dict | None) -> str | None:
    """The account a password check names, as axes records it (``AXES_USERNAME_CALLABLE``).

    The email folded as ``User.email`` is, whichever field the path uses (``username`` for the API
    form and the admin, ``email`` for the API's JSON and allauth), so case and spacing never make
    a fresh count. Names too long to be an email are hashed (bounded, still distinct).
    """
    value = None
    if credentials:
        value = credentials.get("username") or credentials.get("email")
    elif request is not None:
        value = request.POST.get("username") or request.POST.get("email")
    if not isinstance(value, str):
        return None
    key = User.objects.normalize_email(value.replace("\x00", ""))
    if len(key) > _MAX_USERNAME_LENGTH:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key or None


@dataclass(frozen=True)
class Lockout:
    rule: str  # "account_ip", "ip" or "account"
    retry_after: int  # seconds until it lifts by itself


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _seconds_until_below(rows: list[tuple[datetime, int]], limit: int, window: timedelta, now: datetime) -> int | None:
    """Seconds until the failures still inside the window fall below ``limit``; None if they are."""
    total = sum(count for _, count in rows)
    if total < limit:
        return None
    for attempt_time, count in sorted(rows):  # the row with the oldest last failure leaves first
        total -= count
        if total < limit:
            return _seconds_until(attempt_time + window, now)
    return 1  # not reached: the loop ends with total == 0 < limit


def _account_lockout(username: str | None, ip: str | None, now: datetime) -> Lockout | None:
    """The account limit: its failures since its last sign-in and within the window, unless this
    address is one the account knows. Costs two queries (three when the limit is reached)."""
    if username is None:
        return None
    window = settings.LOGIN_ACCOUNT_LOCK_WINDOW
    user = User.objects.filter(email__iexact=username).values("pk", "last_login").first()
    since = now - window
    if user and user["last_login"] and user["last_login"] > since:
        since = user["last_login"]
    failures = AccessFailureLog.objects.filter(username=username, attempt_time__gt=since)
    count = failures.count()
    limit = settings.LOGIN_FAILURES_PER_ACCOUNT
    if count < limit:
        return None
    if user and ip in known_addresses(user_id=user["pk"], now=now):
        return None
    # It lifts when the failure that brings the count below the limit leaves the window.
    pivot = failures.order_by("attempt_time").values_list("attempt_time", flat=True)[count - limit]
    return Lockout("account", _seconds_until(pivot + window, now))


def known_addresses(*, user_id: int, now: datetime) -> set[str]:
    """The addresses (as counted) this account signed in from lately, as its devices last saw them."""
    days = settings.LOGIN_KNOWN_ADDRESS_DAYS
    if days <= 0:
        return set()
    seen = Device.objects.filter(user_id=user_id, ip__isnull=False, last_seen_at__gte=now - timedelta(days=days))
    return {counted_address(ip) for ip in seen.values_list("ip", flat=True)}


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler plus the per-address and per-account limits (``AXES_HANDLER``)."""

    def lockout(self, request: HttpRequest, credentials: dict | None = None) -> Lockout | None:
        """Which limit refuses this attempt (the one lifting last), or None."""
        AxesProxyHandler.update_request(request)
        username = get_client_username(request, credentials)
        now, window, ip = request.axes_attempt_time, get_cool_off(request), request.axes_ip_address
        account = _account_lockout(username, ip, now)
        found = [account] if account else []
        recent = AccessAttempt.objects.filter(attempt_time__gte=now - window)
        for rule, attempts, limit in (
            ("account_ip", recent.filter(username=username, ip_address=ip), settings.LOGIN_FAILURES_PER_ACCOUNT_IP),
            ("ip", recent.filter(ip_address=ip), settings.LOGIN_FAILURES_PER_IP),
        ):
            rows = list(attempts.values_list("attempt_time", "failures_since_start"))
            wait = _seconds_until_below(rows, limit, window, now)
            if wait is not None:
                found.append(Lockout(rule, wait))
        return max(found, key=lambda lock: lock.retry_after, default=None)

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        if not settings.AXES_LOCK_OUT_AT_FAILURE:
            return False
        return self.lockout(request, credentials) is not None

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        # axes itself locks out at the failure reaching the pair's limit; the failure reaching
        # the address's or the account's limit is answered as a lockout too.
        if request is None or request.axes_locked_out or not settings.AXES_LOCK_OUT_AT_FAILURE:
            return
        if not self.is_whitelisted(request, credentials) and self.lockout(request, credentials) is not None:
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )

    def reset_attempts(self, *, ip_address=None, username=None, ip_or_username=False) -> int:
        """Staff unlock (``axes_reset_username``, the user admin's action), a password reset: the
        account's failure log goes too, so its count restarts."""
        if username is not None:
            username = username_key(None, {"username": username})
            AccessFailureLog.objects.filter(username=username).delete()
        return super().reset_attempts(ip_address=ip_address, username=username, ip_or_username=ip_or_username)

    def remove_out_of_limit_failure_logs(self, *, username: str, limit: int | None = None) -> int:
        # axes' own version deletes the *newest* rows (its models order by -attempt_time), which
        # would drop every new failure of a name past the limit; keep the newest instead.
        limit = limit or settings.AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT
        newest_first = AccessFailureLog.objects.filter(username=username).order_by("-attempt_time", "-pk")
        stale = list(newest_first.values_list("pk", flat=True)[limit:])
        return AccessFailureLog.objects.filter(pk__in=stale).delete()[0] if stale else 0


def unlock(*, email: str) -> int:
    """Forget every failed password of this account, from every address (staff, password reset)."""
    return AxesProxyHandler.reset_attempts(username=email)


def forget_account(*, email: str) -> None:
    """Delete every sign-in record of this email (its account is being deleted)."""
    key = username_key(None, {"username": email})
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username=key).delete()


@receiver(password_reset, dispatch_uid="accounts.lockout.unlock_after_password_reset")
def _unlock_after_password_reset(sender, request, user, **kwargs):
    # The owner proved the mailbox and chose a new password: the guesses at the old one are moot,
    # and every session opened with the old one ends (whoever knew it is signed out), as a
    # password change does.
    from .services import devices_revoke_all

    unlock(email=user.email)
    devices_revoke_all(user=user)


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the 429 of a refused or lockout-reaching attempt.

    Reads the credentials from the request: axes' async middleware passes its arguments shifted.
    """
    lock = LockoutHandler().lockout(request, getattr(request, "axes_credentials", None))
    if lock is None:  # unlocked in the meantime (staff): the window is the honest upper bound
        lock = Lockout("unknown", int(get_cool_off(request).total_seconds()))
    minutes = math.ceil(lock.retry_after / 60)
    # Said alike whether the account exists: an unknown email reaches this limit the same way.
    if lock.rule == "account":
        detail = ngettext(
            "Too many failed sign-in attempts. Try again in %(minutes)d minute, or reset your password.",
            "Too many failed sign-in attempts. Try again in %(minutes)d minutes, or reset your password.",
            minutes,
        ) % {"minutes": minutes}
    else:
        detail = ngettext(
            "Too many failed sign-in attempts. Try again in %(minutes)d minute.",
            "Too many failed sign-in attempts. Try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
    status = settings.AXES_HTTP_RESPONSE_CODE
    if is_api_request(request):
        response = JsonResponse({"detail": detail, "code": LOCKOUT_CODE}, status=status)
    else:
        page = {**admin.site.each_context(request), "title": _("Sign-in locked"), "detail": detail}
        response = render(request, "accounts/lockout.html", page, status=status)
    response["Retry-After"] = str(lock.retry_after)
    return response


def check_password(request: HttpRequest, *, user: User, password: str) -> bool:
    """``user.check_password`` under the sign-in limits, for a signed-in user's current password.

    Goes through ``authenticate()``: axes refuses it while the account or this address is locked
    out (the response becomes the 429) and counts a wrong password as a failed sign-in.
    """
    checked = authenticate(request, username=user.get_username(), password=password)
    return checked is not None and checked.pk == user.pk


# --- allauth's headless password change (``/_allauth/app/v1/account/password/change``) --------


class ChangePasswordInput(AllauthChangePasswordInput):
    def clean_current_password(self):
        current_password = self.cleaned_data["current_password"]
        if current_password and not check_password(context.request, user=self.user, password=current_password):
            raise get_account_adapter().validation_error("enter_current_password")
        return current_password


class ChangePasswordView(AllauthChangePasswordView):
    """allauth's password change, its current-password check under the sign-in limits; like
    ``/api/v1/auth/password/change`` it signs every other device out."""

    input_class = ChangePasswordInput

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200:
            from .models import Device
            from .services import devices_revoke_all
            from .social.token_strategy import BEARER_SESSION_MARK

            current = Device.objects.filter(pk=request.session.get(BEARER_SESSION_MARK), user=request.user).first()
            devices_revoke_all(user=request.user, keep=current)
        return response
