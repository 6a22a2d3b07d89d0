"""Personal API keys: made by their user (the secret shown once, only a hash kept), listed without
secrets, revoked by the user, by deactivation or by staff, at once; they open only the views that
take them (the OpenAI-compatible API), never the app's own /api/v1."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.authentication import ApiKeyAuthentication
from accounts.models import ApiKey, User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/api-keys"


def make_key(user, name="script", **kwargs) -> tuple[ApiKey, str]:
    return services.api_key_create(user=user, name=name, **kwargs)


def authenticates(raw: str) -> bool:
    return services.api_key_authenticate(raw) is not None


class WhoAmI(APIView):
    """A view that takes API keys, as the OpenAI-compatible views will."""

    authentication_classes = [ApiKeyAuthentication]

    def get(self, request):
        return Response({"user": request.user.email, "key": request.auth.pk})


def call_with_key(raw: str | None, header: str | None = None):
    factory = APIRequestFactory()
    extra = {"HTTP_AUTHORIZATION": header or f"Bearer {raw}"} if (raw or header) else {}
    return WhoAmI.as_view()(factory.get("/v1/whoami", **extra))


# --- making a key -----------------------------------------------------------------------------


def test_create_shows_the_secret_once_and_stores_only_its_hash(user_client, user):
    r = user_client.post(KEYS, {"name": "  laptop\tscript ", "expires_at": None})

    assert r.status_code == 201, r.content
    body = r.json()
    assert set(body) == {"id", "name", "key", "prefix", "created_at", "expires_at", "last_used_at"}
    secret = body["key"]
    assert secret.startswith("sk-") and len(secret) >= 46
    assert body["prefix"] == secret[:10]
    assert body["name"] == "laptop script"  # one line, trimmed
    assert body["expires_at"] is None and body["last_used_at"] is None
    assert r["Cache-Control"] == "no-store"
    row = ApiKey.objects.get(pk=body["id"])
    assert row.user == user
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    # The secret (or its random part) is in no column of the stored row.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apikey WHERE id = %s", [row.pk])
        stored = " ".join(str(value) for value in cursor.fetchone())
    assert secret not in stored and secret[3:] not in stored and secret[10:] not in stored
    # Nothing can show it again: the list and the row know only the prefix.
    assert secret not in user_client.get(KEYS).content.decode()


def test_secrets_are_random_and_prefixes_tell_keys_apart(user):
    (a, secret_a), (b, secret_b) = make_key(user, "a"), make_key(user, "b")

    assert secret_a != secret_b and a.key_hash != b.key_hash
    assert a.prefix == secret_a[:10] and b.prefix == secret_b[:10]


def test_create_with_an_expiry(user_client):
    expires = timezone.now() + timedelta(days=30)

    r = user_client.post(KEYS, {"name": "ci", "expires_at": expires.isoformat()})

    assert r.status_code == 201, r.content
    assert ApiKey.objects.get(pk=r.json()["id"]).expires_at == expires


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "\x01\x02"}, "name"),  # nothing left to read once control characters go
        ({"name": "x" * 101}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": 7}, "name"),
        ({"name": ["a"]}, "name"),
        ({"name": "ok", "expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "ok", "expires_at": "tomorrow"}, "expires_at"),
        ({"name": "ok", "expires_at": 1893456000}, "expires_at"),
        ({"name": "ok", "expires_at": True}, "expires_at"),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(user_client, user, body, field):
    r = user_client.post(KEYS, body)

    assert r.status_code == 400, r.content
    assert field in r.json(), r.json()
    assert not ApiKey.objects.filter(user=user).exists()


def test_the_service_refuses_what_the_api_would(user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as blank:
        services.api_key_create(user=user, name=" \n\x07 ")
    with pytest.raises(ValidationError) as long:
        services.api_key_create(user=user, name="y" * 101)
    with pytest.raises(ValidationError) as past:
        services.api_key_create(user=user, name="k", expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError) as naive:
        services.api_key_create(user=user, name="k", expires_at=timezone.now().replace(tzinfo=None))

    assert "name" in blank.value.message_dict and "name" in long.value.message_dict
    assert "expires_at" in past.value.message_dict and "expires_at" in naive.value.message_dict
    assert not ApiKey.objects.exists()


def test_too_many_live_keys_is_a_409_until_one_is_revoked(user_client, user, monkeypatch):
    monkeypatch.setattr(services, "API_KEYS_PER_USER", 3)
    keys = [make_key(user, f"k{n}")[0] for n in range(3)]

    refused = user_client.post(KEYS, {"name": "one more"})
    services.api_key_revoke(key=keys[0])
    allowed = user_client.post(KEYS, {"name": "one more"})

    assert refused.status_code == 409
    assert refused.json()["code"] == "too_many_api_keys"
    assert allowed.status_code == 201
    assert ApiKey.objects.filter(user=user).count() == 4


def test_the_cap_is_per_user(user, outsider, monkeypatch):
    monkeypatch.setattr(services, "API_KEYS_PER_USER", 1)
    make_key(user)

    assert make_key(outsider)[0].user == outsider


# --- listing and revoking ---------------------------------------------------------------------


def test_list_shows_prefix_and_last_use_never_the_secret(user_client, user, outsider):
    old, old_secret = make_key(user, "old")
    new, new_secret = make_key(user, "new")
    gone, _ = make_key(user, "gone")
    services.api_key_revoke(key=gone)
    make_key(outsider, "not yours")
    services.api_key_authenticate(old_secret)

    r = user_client.get(KEYS)

    assert r.status_code == 200
    results = r.json()["results"]
    assert [k["name"] for k in results] == ["new", "old"]  # newest first, revoked left out
    assert all(set(k) == {"id", "name", "prefix", "created_at", "expires_at", "last_used_at"} for k in results)
    assert results[0]["prefix"] == new.prefix and results[0]["last_used_at"] is None
    assert results[1]["last_used_at"] is not None
    assert old_secret not in r.content.decode() and new_secret not in r.content.decode()


def test_revoking_ends_the_key_at_once(user_client, user):
    key, secret = make_key(user)
    assert call_with_key(secret).status_code == 200

    r = user_client.delete(f"{KEYS}/{key.pk}")

    assert r.status_code == 204
    assert not authenticates(secret)
    assert call_with_key(secret).status_code == 401
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert user_client.delete(f"{KEYS}/{key.pk}").status_code == 404  # gone from the list
    assert user_client.get(KEYS).json()["results"] == []


def test_another_users_key_is_a_404_and_keeps_working(outsider_client, user):
    key, secret = make_key(user)

    assert outsider_client.delete(f"{KEYS}/{key.pk}").status_code == 404
    assert outsider_client.delete(f"{KEYS}/999999999999").status_code == 404
    assert outsider_client.delete(f"{KEYS}/nope").status_code == 404
    assert authenticates(secret)


def test_revoke_is_idempotent(user):
    key, _ = make_key(user)
    services.api_key_revoke(key=key)
    first = ApiKey.objects.get(pk=key.pk).revoked_at

    services.api_key_revoke(key=key)

    assert ApiKey.objects.get(pk=key.pk).revoked_at == first


def test_keys_need_a_signed_in_user(api_client, user):
    make_key(user)

    assert api_client.get(KEYS).status_code == 401
    assert api_client.post(KEYS, {"name": "x"}).status_code == 401


# --- what ends a key --------------------------------------------------------------------------


def test_an_expired_key_fails(user):
    key, secret = make_key(user, expires_at=timezone.now() + timedelta(hours=1))
    assert authenticates(secret)

    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert not authenticates(secret)
    assert call_with_key(secret).data["code"] == "invalid_api_key"
    # Still listed (with its expiry), so its owner can see it and remove it.
    assert list(selectors.api_key_list(user=user)) == [key]


def test_a_deactivated_users_key_fails_at_once(user):
    _, secret = make_key(user)

    User.objects.filter(pk=user.pk).update(is_active=False)

    assert not authenticates(secret)
    assert call_with_key(secret).status_code == 401


def test_deactivate_and_sign_out_revokes_the_keys_for_good(user, outsider):
    _, secret = make_key(user)
    _, bystander = make_key(outsider)

    services.users_deactivate(users=User.objects.filter(pk=user.pk))
    services.users_reactivate(users=User.objects.filter(pk=user.pk))

    assert not authenticates(secret)  # reactivation does not bring revoked keys back
    assert not ApiKey.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert authenticates(bystander)


def test_signing_out_everywhere_or_a_password_change_keeps_api_keys(user_client, user, password):
    _, secret = make_key(user)

    changed = user_client.post(
        "/api/v1/auth/password/change", {"old_password": password, "new_password": "Another-Horse-77"}
    )
    logged_out = user_client.post("/api/v1/auth/logout", {"all": True})

    assert changed.status_code == 204 and logged_out.status_code == 204
    assert authenticates(secret)  # separate credentials, revoked one by one


# --- authentication ---------------------------------------------------------------------------


def test_the_key_authenticates_its_user_with_the_key_as_auth(user):
    key, secret = make_key(user)

    r = call_with_key(secret)

    assert r.status_code == 200
    assert r.data == {"user": user.email, "key": key.pk}


def test_one_query_loads_the_key_its_user_and_plan(user):
    _, secret = make_key(user)
    services.api_key_authenticate(secret)  # the first use writes last_used_at

    with CaptureQueriesContext(connection) as queries:
        key = services.api_key_authenticate(secret)
        plan = key.user.settings.plan.slug

    assert plan == "free"
    assert len(queries) == 1


def test_last_use_is_written_at_most_once_a_minute(user, django_assert_num_queries):
    key, secret = make_key(user)

    with CaptureQueriesContext(connection) as first:
        services.api_key_authenticate(secret)
    stamped = ApiKey.objects.get(pk=key.pk).last_used_at
    with CaptureQueriesContext(connection) as busy:
        for _ in range(5):
            services.api_key_authenticate(secret)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - timedelta(seconds=61))
    with django_assert_num_queries(2):  # the read and one conditional UPDATE
        services.api_key_authenticate(secret)

    assert stamped is not None
    assert [q["sql"].split()[0] for q in first.captured_queries] == ["SELECT", "UPDATE"]
    assert len(busy) == 5 and not any(q["sql"].startswith("UPDATE") for q in busy.captured_queries)
    assert ApiKey.objects.get(pk=key.pk).last_used_at > stamped


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",  # a JWT: left to the session authenticator
        "Basic c2stYWJjOnNlY3JldA==",
        "Token sk-abc",
        "Bearer sk-abc extra",
    ],
)
def test_what_is_not_an_api_key_is_left_to_other_authenticators(header):
    request = APIRequestFactory().get("/v1/whoami", **({"HTTP_AUTHORIZATION": header} if header else {}))

    assert ApiKeyAuthentication().authenticate(request) is None


@pytest.mark.parametrize(
    "token",
    ["sk-", "sk-unknown", "sk-" + "a" * 500, "sk-caf\u00e9".encode().decode("latin-1")],
)
def test_a_bad_key_is_refused(token, user):
    make_key(user)
    request = APIRequestFactory().get("/v1/whoami", HTTP_AUTHORIZATION=f"Bearer {token}")

    with pytest.raises(AuthenticationFailed) as refused:
        ApiKeyAuthentication().authenticate(request)

    assert refused.value.get_codes() == "invalid_api_key"
    assert str(refused.value.detail) == "Invalid API key."


def test_a_refused_key_is_a_401_with_a_challenge(user):
    r = call_with_key("sk-not-a-real-key")

    assert r.status_code == 401
    assert r["WWW-Authenticate"] == 'Bearer realm="api"'
    assert r.data["detail"] == "Invalid API key."


def test_the_bearer_keyword_is_case_insensitive(user):
    _, secret = make_key(user)

    assert call_with_key(None, header=f"bearer {secret}").status_code == 200


def test_an_api_key_does_not_open_the_apps_own_api(user):
    _, secret = make_key(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert client.get("/api/v1/user").status_code == 401
    assert client.get(KEYS).status_code == 401
    assert client.post(KEYS, {"name": "made with a key"}).status_code == 401
    assert not ApiKey.objects.filter(name="made with a key").exists()


# --- admin ------------------------------------------------------------------------------------

ADMIN_KEYS = "/admin/accounts/apikey/"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


def test_admin_lists_searches_and_filters_keys(admin_client, user, outsider):
    used, secret = make_key(user, "alice build bot")
    services.api_key_authenticate(secret)
    revoked, _ = make_key(outsider, "charlie old key")
    services.api_key_revoke(key=revoked)
    expired, _ = make_key(outsider, "charlie expired key", expires_at=timezone.now() + timedelta(hours=1))
    ApiKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(hours=1))

    everything = admin_client.get(ADMIN_KEYS).content.decode()
    by_email = admin_client.get(f"{ADMIN_KEYS}?q=alice@example").content.decode()
    by_prefix = admin_client.get(f"{ADMIN_KEYS}?q={used.prefix}").content.decode()
    usable = admin_client.get(f"{ADMIN_KEYS}?status=usable").content.decode()
    expired_only = admin_client.get(f"{ADMIN_KEYS}?status=expired").content.decode()
    revoked_only = admin_client.get(f"{ADMIN_KEYS}?status=revoked").content.decode()
    change = admin_client.get(f"{ADMIN_KEYS}{used.pk}/change/")

    assert all(n in everything for n in ("alice build bot", "charlie old key", "charlie expired key"))
    assert used.prefix in everything
    assert "alice build bot" in by_email and "charlie" not in by_email
    assert "alice build bot" in by_prefix and "charlie" not in by_prefix
    assert "alice build bot" in usable and "charlie" not in usable
    assert "charlie expired key" in expired_only and "alice build bot" not in expired_only
    assert "charlie old key" in revoked_only and "alice build bot" not in revoked_only
    assert change.status_code == 200 and used.prefix in change.content.decode()
    assert secret not in everything and used.key_hash not in change.content.decode()
    assert admin_client.get(f"{ADMIN_KEYS}add/").status_code == 403


def test_admin_revoke_action_ends_the_selected_keys(admin_client, user):
    (a, secret_a), (_, secret_b), (c, secret_c) = make_key(user, "a"), make_key(user, "b"), make_key(user, "c")
    services.api_key_revoke(key=c)

    r = admin_client.post(ADMIN_KEYS, {"action": "revoke", "_selected_action": [a.pk, c.pk]}, follow=True)

    assert r.status_code == 200
    assert "Revoked 1 API key." in r.content.decode()
    assert not authenticates(secret_a) and not authenticates(secret_c)
    assert authenticates(secret_b)


def test_admin_user_page_lists_the_users_keys_with_last_use(admin_client, user):
    key, secret = make_key(user, "nightly export")
    services.api_key_authenticate(secret)

    body = admin_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()

    assert "nightly export" in body and key.prefix in body
    assert "API keys" in body
    assert 'name="api_keys-0-name"' not in body  # read-only
    assert secret not in body


def test_admin_deactivate_action_revokes_keys(admin_client, user):
    _, secret = make_key(user)

    r = admin_client.post(
        "/admin/accounts/user/", {"action": "deactivate_and_sign_out", "_selected_action": [user.pk]}, follow=True
    )

    assert "revoked their API keys" in r.content.decode()
    assert not authenticates(secret)
    assert ApiKey.objects.get(user=user).revoked_at is not None
