import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import services

pytestmark = pytest.mark.django_db


def expired_row(user, *, blacklisted=False, days_ago=1):
    row = OutstandingToken.objects.create(
        user=user,
        jti=uuid.uuid4().hex,
        token=f"expired-{uuid.uuid4().hex}",
        created_at=timezone.now() - timedelta(days=30),
        expires_at=timezone.now() - timedelta(days=days_ago),
    )
    if blacklisted:
        BlacklistedToken.objects.create(token=row)
    return row


def purge(*args) -> str:
    out = StringIO()
    call_command("purge_expired_tokens", *args, stdout=out)
    return out.getvalue()


def test_purges_only_expired_rows_and_their_blacklist_entries(user, outsider):
    live = services.session_start(user=user, device_id="phone")
    rotated = services.session_refresh(refresh_token=live.tokens.refresh)  # blacklists a live row
    expired = [expired_row(user, blacklisted=n % 2 == 0) for n in range(5)] + [expired_row(outsider)]
    live_ids = set(OutstandingToken.objects.exclude(pk__in=[r.pk for r in expired]).values_list("pk", flat=True))

    output = purge()

    assert output.strip() == "Deleted 6 expired token(s) and 0 revoked device session(s)."
    assert set(OutstandingToken.objects.values_list("pk", flat=True)) == live_ids
    assert len(live_ids) == 2
    assert BlacklistedToken.objects.count() == 1  # the rotated-away, not yet expired token
    assert BlacklistedToken.objects.get().token.jti == live.tokens.refresh_jti
    # The session still works after the purge.
    assert APIClient().post("/api/v1/auth/refresh", {"refresh": rotated.tokens.refresh}).status_code == 200


def test_purges_in_batches(user):
    for _ in range(5):
        expired_row(user, blacklisted=True)

    with CaptureQueriesContext(connection) as queries:
        output = purge("--batch-size", "2")

    assert output.strip() == "Deleted 5 expired token(s) and 0 revoked device session(s)."
    assert not OutstandingToken.objects.exists()
    assert not BlacklistedToken.objects.exists()
    outstanding_deletes = [
        q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "token_blacklist_outstandingtoken"')
    ]
    assert len(outstanding_deletes) == 3  # 2 + 2 + 1


def test_nothing_to_purge(user):
    services.session_start(user=user, device_id="phone")

    assert purge().strip() == "Deleted 0 expired token(s) and 0 revoked device session(s)."
    assert OutstandingToken.objects.count() == 1


def test_rejects_a_nonsensical_batch_size():
    with pytest.raises(CommandError):
        purge("--batch-size", "0")


def test_revoked_devices_are_kept_for_the_history_then_deleted(user, outsider):
    from accounts.models import Device

    live = services.session_start(user=user, device_id="phone").device
    recent = services.session_start(user=user, device_id="old-laptop").device
    ancient = services.session_start(user=outsider, device_id="lost-phone").device
    services.device_revoke(device=recent)
    services.device_revoke(device=ancient)
    Device.objects.filter(pk=ancient.pk).update(revoked_at=timezone.now() - timedelta(days=91))

    output = purge("--revoked-devices-days", "90")

    assert output.strip().endswith("and 1 revoked device session(s).")
    assert set(Device.objects.values_list("pk", flat=True)) == {live.pk, recent.pk}


def test_rejects_a_negative_retention():
    with pytest.raises(CommandError):
        purge("--revoked-devices-days", "-1")


class _Terminal(StringIO):
    def isatty(self):
        return True


def test_a_terminal_sees_progress_and_logs_do_not(user):
    for _ in range(3):
        expired_row(user)
    err = _Terminal()
    call_command("purge_expired_tokens", "--batch-size", "2", stdout=StringIO(), stderr=err)
    assert "Expired tokens: 3" in err.getvalue() and "Revoked devices: 0" in err.getvalue()

    expired_row(user)
    err = StringIO()
    call_command("purge_expired_tokens", stdout=StringIO(), stderr=err)
    assert err.getvalue() == ""


def test_the_daily_job_does_what_the_command_does(user):
    from accounts.tasks import sessions_purge_expired

    expired_row(user)
    assert sessions_purge_expired.call() == {"expired_tokens": 1, "revoked_devices": 0}
