"""Social login through allauth headless (app client), answered by a local provider double."""

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from accounts.models import Device, User
from tests.accounts.factories import UserFactory
from tests.accounts.social_doubles import CLIENTS, ProviderServer, point_providers_at, profile_for, providers_setting

PROVIDERS = ("google", "github", "kakao", "naver")
APP_CALLBACK = "http://localhost:5173/auth/callback"
REDIRECT_URL = "/_allauth/app/v1/auth/provider/redirect"
TOKEN_URL = "/_allauth/app/v1/auth/provider/token"
PROVIDERS_URL = "/_allauth/app/v1/account/providers"
EXCHANGE_URL = "/api/v1/auth/social/exchange"


@pytest.fixture(scope="module")
def provider_server():
    server = ProviderServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _social_settings(settings, monkeypatch, provider_server):
    settings.SOCIALACCOUNT_PROVIDERS = providers_setting()
    settings.SOCIAL_ALLOWED_CALLBACK_URLS = ["http://localhost:5173/"]
    point_providers_at(monkeypatch, provider_server)


def query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def start_redirect(provider, *, device_id="phone-1", process="login", bearer=None, bearer_in_form=False):
    """What the app does first: a form POST that answers with the provider's consent page."""
    headers = {"HTTP_X_DEVICE_ID": device_id} if device_id else {}
    form = {"provider": provider, "callback_url": APP_CALLBACK, "process": process}
    if bearer and bearer_in_form:
        form["access_token"] = bearer
    elif bearer:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {bearer}"
    response = Client().post(REDIRECT_URL, form, **headers)
    assert response.status_code == 302, response.content
    return query(response["Location"])


def provider_callback(provider, params: dict):
    """The browser coming back from the provider: a new client, without the app's session."""
    response = Client().get(f"/accounts/{provider}/login/callback/", params)
    assert response.status_code == 302
    return response["Location"]


def social_login(provider_server, provider, *, uid="1001", email="sam@example.com", device_id="phone-1"):
    authorize = start_redirect(provider, device_id=device_id)
    code = provider_server.issue_code(provider, profile_for(provider, uid=uid, email=email, name="Sam Social"))
    location = provider_callback(provider, {"code": code, "state": authorize["state"]})
    return location


def exchange_code(api_client, location, **extra):
    return api_client.post(EXCHANGE_URL, {"code": query(location)["code"], **extra}, format="json")


def exchange(api_client, location, **extra):
    assert location.startswith(APP_CALLBACK), location
    params = query(location)
    assert "error" not in params, params
    return api_client.post(EXCHANGE_URL, {"code": params["code"], **extra}, format="json")


# --- configuration ---------------------------------------------------------------------------


def test_config_lists_exactly_the_configured_providers(db, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {k: v for k, v in providers_setting().items() if k in ("github", "naver")}
    body = Client().get("/_allauth/app/v1/config").json()
    assert sorted(p["id"] for p in body["data"]["socialaccount"]["providers"]) == ["github", "naver"]


def test_config_lists_no_provider_without_settings(db, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    body = Client().get("/_allauth/app/v1/config").json()
    assert body["data"]["socialaccount"]["providers"] == []


def test_settings_build_providers_only_from_present_env(monkeypatch):
    import importlib

    import config.settings.base as base
    import config.settings.parts.allauth as allauth_part

    for pid in PROVIDERS:
        monkeypatch.delenv(f"SOCIAL_{pid.upper()}_CLIENT_ID", raising=False)
        monkeypatch.delenv(f"SOCIAL_{pid.upper()}_SECRET", raising=False)
    monkeypatch.setenv("SOCIAL_KAKAO_CLIENT_ID", "kid")
    monkeypatch.setenv("SOCIAL_KAKAO_SECRET", "ksecret")
    monkeypatch.setenv("SOCIAL_GOOGLE_CLIENT_ID", "only-an-id")  # no secret: not configured
    try:
        importlib.reload(allauth_part)  # where the providers are read from the environment
        reloaded = importlib.reload(base)
        assert list(reloaded.SOCIALACCOUNT_PROVIDERS) == ["kakao"]
        assert reloaded.SOCIALACCOUNT_PROVIDERS["kakao"]["APPS"][0]["client_id"] == "kid"
        assert {f"allauth.socialaccount.providers.{p}" for p in PROVIDERS} <= set(reloaded.INSTALLED_APPS)
    finally:
        monkeypatch.undo()
        importlib.reload(allauth_part)
        importlib.reload(base)


def test_redirect_unknown_provider_is_an_error(db, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    response = Client().post(REDIRECT_URL, {"provider": "google", "callback_url": APP_CALLBACK, "process": "login"})
    assert response.status_code == 302
    assert query(response["Location"])["error"] == "unknown"


# --- redirect flow: success for each provider ------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_redirect_flow_issues_a_device_session(db, api_client, provider_server, provider, reuse_interval_over):
    authorize = start_redirect(provider, device_id="phone-1")
    assert authorize["client_id"] == CLIENTS[provider][0]
    assert authorize["redirect_uri"] == f"http://testserver/accounts/{provider}/login/callback/"

    location = social_login(provider_server, provider, device_id="phone-1")
    response = exchange(api_client, location, device_name="Sam's phone")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert body["device"]["login_type"] == provider
    assert body["device"]["device_id"] == "phone-1"
    assert body["user"]["email"] == "sam@example.com"
    device = Device.objects.get(pk=body["device"]["id"])
    assert (device.login_type, device.name, device.user.email) == (provider, "Sam's phone", "sam@example.com")
    user = device.user
    assert not user.has_usable_password()
    assert user.display_name == "Sam Social"
    assert user.settings.plan.slug == "free"
    assert SocialAccount.objects.filter(user=user, provider=provider).count() == 1

    # The pair works exactly like a password login's.
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert api_client.get("/api/v1/user").json()["email"] == "sam@example.com"
    devices = api_client.get("/api/v1/auth/devices").json()["results"]
    assert [d["login_type"] for d in devices] == [provider]
    refreshed = api_client.post("/api/v1/auth/refresh", {"refresh": body["refresh"]}, format="json")
    assert refreshed.status_code == 200
    reused = api_client.post("/api/v1/auth/refresh", {"refresh": body["refresh"]}, format="json")
    assert reused.status_code == 401 and reused.json()["code"] == "token_reused"
    device.refresh_from_db()
    assert device.revoked_at is not None


def test_signing_in_again_reaches_the_same_user(db, api_client, provider_server):
    first = exchange(api_client, social_login(provider_server, "github", uid="77", device_id="laptop")).json()
    second = exchange(api_client, social_login(provider_server, "github", uid="77", device_id="laptop")).json()
    assert first["user"]["id"] == second["user"]["id"]
    assert User.objects.filter(email="sam@example.com").count() == 1
    # Same device signed in again: one row, the older tokens retired.
    assert Device.objects.filter(user_id=first["user"]["id"]).count() == 1
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {first['access']}")
    assert api_client.get("/api/v1/user").status_code == 401


def test_device_id_is_generated_when_the_client_sends_none(db, api_client, provider_server):
    body = exchange(api_client, social_login(provider_server, "kakao", device_id=None)).json()
    assert len(body["device"]["device_id"]) >= 16
    assert body["device"]["login_type"] == "kakao"


def test_logout_revokes_a_social_device(db, api_client, provider_server):
    body = exchange(api_client, social_login(provider_server, "naver")).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert api_client.post("/api/v1/auth/logout", {}, format="json").status_code == 204
    assert api_client.get("/api/v1/user").status_code == 401


# --- redirect flow: errors -------------------------------------------------------------------


def test_missing_state_is_an_error(db, provider_server):
    code = provider_server.issue_code("google", profile_for("google", uid="5", email="x@example.com"))
    location = provider_callback("google", {"code": code})
    assert query(location)["error"] == "unknown"
    assert not User.objects.filter(email="x@example.com").exists()


def test_forged_state_is_an_error(db, provider_server):
    start_redirect("google")
    code = provider_server.issue_code("google", profile_for("google", uid="5", email="x@example.com"))
    location = provider_callback("google", {"code": code, "state": "forged-state-value"})
    assert query(location)["error"] == "unknown"
    assert not User.objects.filter(email="x@example.com").exists()


def test_a_state_is_good_for_one_callback_only(db, api_client, provider_server):
    authorize = start_redirect("google")
    profile = profile_for("google", uid="5", email="x@example.com")
    first = provider_callback(
        "google", {"code": provider_server.issue_code("google", profile), "state": authorize["state"]}
    )
    assert "code" in query(first)
    replay = provider_callback(
        "google", {"code": provider_server.issue_code("google", profile), "state": authorize["state"]}
    )
    assert "code" not in query(replay) and query(replay)["error"] == "unknown"


def test_state_of_another_provider_is_an_error(db, provider_server):
    authorize = start_redirect("github")
    code = provider_server.issue_code("google", profile_for("google", uid="5", email="x@example.com"))
    location = provider_callback("google", {"code": code, "state": authorize["state"]})
    assert "error" in query(location)
    assert not User.objects.filter(email="x@example.com").exists()


def test_provider_error_returns_to_the_client_with_the_error(db, provider_server):
    authorize = start_redirect("kakao")
    location = provider_callback("kakao", {"error": "access_denied", "state": authorize["state"]})
    assert location.startswith(APP_CALLBACK)
    assert query(location) == {"error": "cancelled", "error_process": "login"}
    assert not SocialAccount.objects.exists()


def test_a_bad_code_at_the_provider_is_an_error(db, provider_server):
    authorize = start_redirect("naver")
    location = provider_callback("naver", {"code": "never-issued", "state": authorize["state"]})
    assert location.startswith(APP_CALLBACK)
    assert query(location)["error"] == "unknown"
    assert not User.objects.exists()


# --- redirect flow: an app scheme as callback_url (docs/social-login.md: myapp://auth) -------

APP_SCHEME_CALLBACK = "myapp://auth"


def start_app_redirect(provider, *, callback_url=APP_SCHEME_CALLBACK, process="login", **form):
    """A mobile app's browser tab posting the documented form (device_id as a form field)."""
    response = Client().post(
        REDIRECT_URL, {"provider": provider, "callback_url": callback_url, "process": process, **form}
    )
    return response


@pytest.fixture
def app_scheme_listed(settings):
    settings.SOCIAL_ALLOWED_CALLBACK_URLS = ["http://localhost:5173/", APP_SCHEME_CALLBACK]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_app_scheme_callback_completes_the_documented_flow(
    db, api_client, provider_server, app_scheme_listed, provider
):
    started = start_app_redirect(provider, device_id="phone-7")
    assert started.status_code == 302
    state = query(started["Location"])["state"]
    code = provider_server.issue_code(provider, profile_for(provider, uid="2024", email="mo@example.com"))
    response = Client().get(f"/accounts/{provider}/login/callback/", {"code": code, "state": state})

    # It answered 400 here (Django refuses to redirect to myapp://), with the user already created.
    assert response.status_code == 302, response.content
    location = response["Location"]
    assert location.startswith(APP_SCHEME_CALLBACK + "?"), location
    assert set(query(location)) == {"code"}

    body = api_client.post(EXCHANGE_URL, {"code": query(location)["code"]}, format="json").json()
    assert body["device"] == {**body["device"], "device_id": "phone-7", "login_type": provider}
    assert body["user"]["email"] == "mo@example.com"
    assert SocialAccount.objects.filter(user_id=body["user"]["id"], provider=provider).count() == 1


def test_app_scheme_callback_keeps_its_own_path_and_query(db, api_client, provider_server, settings):
    settings.SOCIAL_ALLOWED_CALLBACK_URLS = ["com.example.app:/oauth2redirect"]
    started = start_app_redirect("github", callback_url="com.example.app:/oauth2redirect/done?tab=chat")
    code = provider_server.issue_code("github", profile_for("github", uid="88", email="pat@example.com"))
    location = provider_callback("github", {"code": code, "state": query(started["Location"])["state"]})
    assert location.startswith("com.example.app:/oauth2redirect/done?tab=chat&code="), location
    assert exchange_code(api_client, location).status_code == 200


@pytest.mark.parametrize(
    "provider, profile, error",
    [
        ("google", {"uid": "9", "email": "alice@example.com"}, "email_taken"),
        ("kakao", {"uid": "9", "email": None}, "email_required"),
    ],
)
def test_app_scheme_callback_gets_errors_too(db, provider_server, app_scheme_listed, provider, profile, error):
    UserFactory(email="alice@example.com")
    started = start_app_redirect(provider)
    code = provider_server.issue_code(provider, profile_for(provider, **profile))
    location = provider_callback(provider, {"code": code, "state": query(started["Location"])["state"]})
    assert location.startswith(APP_SCHEME_CALLBACK + "?")
    assert query(location) == {"error": error, "error_process": "login"}
    assert not SocialAccount.objects.exists()


def test_app_scheme_callback_when_the_user_declines(db, provider_server, app_scheme_listed):
    started = start_app_redirect("naver")
    location = provider_callback("naver", {"error": "access_denied", "state": query(started["Location"])["state"]})
    assert location == f"{APP_SCHEME_CALLBACK}?error=cancelled&error_process=login"


def test_app_scheme_callback_for_linking(db, provider_server, app_scheme_listed, user_client):
    started = start_app_redirect("github", process="connect", access_token=user_client.session_tokens.access)
    code = provider_server.issue_code("github", profile_for("github", uid="321", email="alice.gh@example.com"))
    location = provider_callback("github", {"code": code, "state": query(started["Location"])["state"]})
    assert location == APP_SCHEME_CALLBACK
    assert SocialAccount.objects.get(uid="321").user.email == "alice@example.com"


@pytest.mark.parametrize(
    "callback_url",
    [
        "otherapp://auth",  # a scheme nobody listed
        "myapp://authority",  # "starts with" the listed entry, another host
        "myapp://auth.evil.example/",
        "myapp://auth@evil.example/",
        "MYAPP://evil.example/auth",
        "javascript:alert(1)//myapp://auth",
        "http://localhost:5173.evil.example/",
        "https://localhost:5173/",  # another scheme than the listed origin's
        "//evil.example/myapp://auth",
        "myapp://auth\\@evil.example",
    ],
)
def test_an_unlisted_callback_is_refused_before_the_provider_is_asked(
    db, provider_server, app_scheme_listed, callback_url
):
    started = start_app_redirect("github", callback_url=callback_url, device_id="phone-7")
    assert started.status_code == 302
    location = started["Location"]
    assert query(location)["error"] == "unknown"
    assert not location.startswith(("https://github.com", callback_url.strip()))
    assert "state" not in query(location)  # no flow was started: nothing can come back to it
    assert not User.objects.exists() and not SocialAccount.objects.exists()


def test_a_callback_delisted_during_the_flow_is_refused_before_any_account_exists(
    db, provider_server, settings, app_scheme_listed
):
    started = start_app_redirect("google")
    settings.SOCIAL_ALLOWED_CALLBACK_URLS = ["http://localhost:5173/"]  # the operator removes the app
    code = provider_server.issue_code("google", profile_for("google", uid="77", email="lee@example.com"))
    location = provider_callback("google", {"code": code, "state": query(started["Location"])["state"]})
    assert not location.startswith("myapp:")
    assert query(location) == {"error": "unknown", "error_process": "login"}
    assert code in provider_server.codes  # the provider was never asked to redeem it
    assert not User.objects.exists() and not SocialAccount.objects.exists()


@pytest.mark.parametrize(
    "entry, url, listed",
    [
        ("myapp://auth", "myapp://auth", True),
        ("myapp://auth", "myapp://auth/done?x=1", True),
        ("myapp://auth", "MyApp://AUTH", True),  # scheme and host are case-insensitive
        ("myapp://auth", "myapp://authority", False),
        ("myapp://auth", "myapp://auth:8080", False),
        ("myapp://auth", "myapp:/auth", False),
        ("https://app.example.com", "https://app.example.com/cb", True),
        ("https://app.example.com", "https://app.example.com.evil.example/cb", False),
        ("https://app.example.com/auth", "https://app.example.com/auth/cb", True),
        ("https://app.example.com/auth", "https://app.example.com/authx", False),
        ("https://app.example.com/auth/", "https://app.example.com/auth/", True),
        ("https://app.example.com/", "http://app.example.com/", False),
        ("com.example.app:/oauth2redirect", "com.example.app:/oauth2redirect", True),
        ("com.example.app:/oauth2redirect", "com.example.app://evil/oauth2redirect", False),
        ("javascript:", "javascript:alert(1)", False),  # never, even when listed
        ("data:", "data:text/html,hi", False),
        ("myapp://auth", "myapp://auth\n", False),
        ("myapp://auth", "", False),
        ("myapp://auth", None, False),
    ],
)
def test_callback_url_listing_rule(settings, entry, url, listed):
    from accounts.social.callback_urls import is_listed_callback_url

    settings.SOCIAL_ALLOWED_CALLBACK_URLS = [entry]
    assert is_listed_callback_url(url) is listed


def test_callback_url_must_be_ours_or_listed(db):
    response = Client().post(
        REDIRECT_URL, {"provider": "google", "callback_url": "https://evil.example/steal", "process": "login"}
    )
    assert response.status_code == 302
    assert query(response["Location"])["error"] == "unknown"
    assert "evil.example" not in response["Location"]


# --- the code exchange -----------------------------------------------------------------------


def test_exchange_code_is_single_use(db, api_client, provider_server):
    location = social_login(provider_server, "google")
    assert exchange(api_client, location).status_code == 200
    again = exchange(api_client, location)
    assert again.status_code == 401 and again.json()["code"] == "code_invalid"


def test_exchange_requires_a_code(db, api_client):
    response = api_client.post(EXCHANGE_URL, {}, format="json")
    assert response.status_code == 400 and "code" in response.json()


def test_exchange_rejects_a_malformed_device_id(db, api_client):
    response = api_client.post(EXCHANGE_URL, {"code": "x", "device_id": "has spaces!"}, format="json")
    assert response.status_code == 400 and "device_id" in response.json()


def test_exchange_code_is_bound_to_the_device_that_started(db, api_client, provider_server):
    location = social_login(provider_server, "github", device_id="phone-1")
    response = exchange(api_client, location, device_id="other-phone")
    assert response.status_code == 401
    assert not Device.objects.exists()
    # The mistaken request did not burn the code: the device that started the flow still can.
    assert exchange(api_client, location, device_id="phone-1").status_code == 200
    assert list(Device.objects.values_list("device_id", flat=True)) == ["phone-1"]


def test_exchange_refuses_a_deactivated_user(db, api_client, provider_server):
    location = social_login(provider_server, "github")
    User.objects.filter(email="sam@example.com").update(is_active=False)
    assert exchange(api_client, location).status_code == 401


# --- device ids (the rule itself: test_device_id.py) ------------------------------------------


@pytest.mark.parametrize("value", ["t\u00e9l\u00e9phone", "has spaces", "d" * 129])
def test_exchange_refuses_a_device_id_outside_the_rule(db, api_client, provider_server, value):
    location = social_login(provider_server, "github", device_id=None)
    response = exchange(api_client, location, device_id=value)
    assert response.status_code == 400 and "device_id" in response.json()
    assert exchange(api_client, location).status_code == 200  # the code was not used up


@pytest.mark.parametrize("where", ["header", "form"])
def test_redirect_start_refuses_a_malformed_device_id_naming_it(db, where):
    value = "t\u00e9l\u00e9phone"
    form = {"provider": "google", "callback_url": APP_CALLBACK, "process": "login"}
    headers = {}
    if where == "header":
        headers["HTTP_X_DEVICE_ID"] = value.encode().decode("latin-1")  # as the bytes arrive
    else:
        form["device_id"] = value
    response = Client().post(REDIRECT_URL, form, **headers)
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert (error["param"], error["code"]) == ("device_id", "device_id_invalid")


def test_redirect_start_with_a_well_formed_device_id_in_the_form(db, api_client, provider_server):
    started = Client().post(
        REDIRECT_URL, {"provider": "kakao", "callback_url": APP_CALLBACK, "process": "login", "device_id": "a.b:c_d-9"}
    )
    code = provider_server.issue_code("kakao", profile_for("kakao", uid="5", email="kim@example.com"))
    location = provider_callback("kakao", {"code": code, "state": query(started["Location"])["state"]})
    assert exchange(api_client, location).json()["device"]["device_id"] == "a.b:c_d-9"


def test_token_flow_refuses_a_malformed_device_id_before_creating_the_user(db, provider_server):
    id_token = provider_server.google_id_token({"sub": "g-90", "email": "una@example.com", "name": "Una"})
    response = google_token_login(id_token, HTTP_X_DEVICE_ID="has spaces")
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["param"] == "device_id"
    assert not User.objects.filter(email="una@example.com").exists()
    assert not SocialAccount.objects.exists()


# --- email collisions ------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_email_of_an_existing_account_never_signs_into_it(db, provider_server, provider):
    alice = UserFactory(email="alice@example.com")
    location = social_login(provider_server, provider, email="Alice@Example.com")
    assert location.startswith(APP_CALLBACK)
    assert query(location)["error"] == "email_taken"
    assert not SocialAccount.objects.exists()
    assert not Device.objects.filter(user=alice).exists()


def test_provider_without_email_is_a_clear_error(db, provider_server):
    location = social_login(provider_server, "kakao", email=None)
    assert query(location)["error"] == "email_required"
    assert not User.objects.exists()


def test_naver_emails_are_treated_as_unverified(db, provider_server, api_client):
    from allauth.account.models import EmailAddress

    exchange(api_client, social_login(provider_server, "naver", email="nina@example.com"))
    address = EmailAddress.objects.get(email="nina@example.com")
    assert address.verified is False


# --- linking and unlinking -------------------------------------------------------------------


def connect(provider_server, user_client, provider, *, uid, email):
    authorize = start_redirect(provider, process="connect", bearer=user_client.session_tokens.access)
    code = provider_server.issue_code(provider, profile_for(provider, uid=uid, email=email))
    return provider_callback(provider, {"code": code, "state": authorize["state"]})


def test_a_user_links_providers_and_signs_in_with_them(db, provider_server, user, user_client, api_client):
    for provider, uid in (("github", "501"), ("google", "g-501")):
        location = connect(provider_server, user_client, provider, uid=uid, email="alice.work@example.com")
        assert location.startswith(APP_CALLBACK) and "error" not in query(location)
    listed = Client().get(PROVIDERS_URL, HTTP_AUTHORIZATION=f"Bearer {user_client.session_tokens.access}").json()
    assert sorted(a["provider"]["id"] for a in listed["data"]) == ["github", "google"]

    location = social_login(provider_server, "github", uid="501", email="alice.work@example.com")
    body = exchange(api_client, location).json()
    assert body["user"]["id"] == user.pk
    assert body["device"]["login_type"] == "github"


def test_connect_without_a_live_bearer_links_nothing(db, provider_server, user_client):
    user_client.post("/api/v1/auth/logout", {}, format="json")
    response = Client().post(
        REDIRECT_URL,
        {"provider": "github", "callback_url": APP_CALLBACK, "process": "connect"},
        HTTP_AUTHORIZATION=f"Bearer {user_client.session_tokens.access}",
    )
    assert response.status_code == 410
    assert not SocialAccount.objects.exists()


def test_providers_endpoint_needs_a_live_bearer(db, user_client):
    anonymous = Client().get(PROVIDERS_URL)
    assert anonymous.status_code == 401
    user_client.post("/api/v1/auth/logout", {}, format="json")
    revoked = Client().get(PROVIDERS_URL, HTTP_AUTHORIZATION=f"Bearer {user_client.session_tokens.access}")
    assert revoked.status_code == 410


def test_a_social_account_of_another_user_cannot_be_linked(db, provider_server, user_client, api_client):
    exchange(api_client, social_login(provider_server, "github", uid="900", email="bob@example.com"))
    location = connect(provider_server, user_client, "github", uid="900", email="bob@example.com")
    assert "error" in query(location)
    assert SocialAccount.objects.get(uid="900").user.email == "bob@example.com"


def test_unlinking_the_last_sign_in_method_is_refused(db, provider_server, api_client):
    body = exchange(api_client, social_login(provider_server, "google", uid="g-1")).json()
    bearer = f"Bearer {body['access']}"
    refused = Client().delete(
        PROVIDERS_URL,
        {"provider": "google", "account": "g-1"},
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer,
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "no_password"
    assert SocialAccount.objects.filter(uid="g-1").exists()


def test_unlinking_one_of_two_providers(db, provider_server, api_client):
    body = exchange(api_client, social_login(provider_server, "google", uid="g-2")).json()
    # A browser form POST cannot set headers: the access token rides in the form (RFC 6750 2.2).
    authorize = start_redirect("naver", process="connect", bearer=body["access"], bearer_in_form=True)
    code = provider_server.issue_code("naver", profile_for("naver", uid="n-2", email="sam@example.com"))
    provider_callback("naver", {"code": code, "state": authorize["state"]})
    bearer = f"Bearer {body['access']}"
    removed = Client().delete(
        PROVIDERS_URL,
        {"provider": "google", "account": "g-2"},
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer,
    )
    assert removed.status_code == 200
    assert [a["provider"]["id"] for a in removed.json()["data"]] == ["naver"]
    last = Client().delete(
        PROVIDERS_URL,
        {"provider": "naver", "account": "n-2"},
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer,
    )
    assert last.status_code == 400


def test_a_user_with_a_password_may_unlink_the_last_provider(db, provider_server, user, user_client):
    connect(provider_server, user_client, "kakao", uid="31", email="alice@example.com")
    response = Client().delete(
        PROVIDERS_URL,
        {"provider": "kakao", "account": "31"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {user_client.session_tokens.access}",
    )
    assert response.status_code == 200
    assert not SocialAccount.objects.filter(user=user).exists()


# --- token flow (Google ID token) ------------------------------------------------------------


def google_token_login(id_token, **headers):
    return Client().post(
        TOKEN_URL,
        {"provider": "google", "process": "login", "token": {"client_id": CLIENTS["google"][0], "id_token": id_token}},
        content_type="application/json",
        **headers,
    )


def test_google_id_token_flow_issues_a_device_session(db, provider_server, api_client):
    id_token = provider_server.google_id_token({"sub": "g-77", "email": "tia@example.com", "name": "Tia"})
    response = google_token_login(id_token, HTTP_X_DEVICE_ID="tablet-9", HTTP_X_DEVICE_NAME="Tia's tablet")
    assert response.status_code == 200, response.content
    meta = response.json()["meta"]
    assert meta["token_type"] == "Bearer"
    assert meta["device"]["login_type"] == "google" and meta["device"]["device_id"] == "tablet-9"
    assert meta["access_token"] == meta["access"]
    device = Device.objects.get(pk=meta["device"]["id"])
    assert device.name == "Tia's tablet" and device.user.email == "tia@example.com"

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {meta['access']}")
    assert api_client.get("/api/v1/user").json()["email"] == "tia@example.com"
    assert api_client.post("/api/v1/auth/refresh", {"refresh": meta["refresh"]}, format="json").status_code == 200
    # The allauth session used for the login does not stay signed in.
    if "session_token" in meta:
        session = Client().get("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=meta["session_token"])
        assert session.status_code in (401, 410)


def test_google_id_token_signed_by_another_key_is_refused(db, provider_server):
    other = ProviderServer()  # not started: only its signing key is used
    forged = other.google_id_token({"sub": "g-66", "email": "mallory@example.com"})
    response = google_token_login(forged)
    assert response.status_code == 400
    assert not User.objects.filter(email="mallory@example.com").exists()


def test_google_id_token_for_another_client_is_refused(db, provider_server):
    id_token = provider_server.google_id_token({"sub": "g-67", "email": "eve@example.com"}, audience="someone-else")
    assert google_token_login(id_token).status_code == 400


def test_google_expired_id_token_is_refused(db, provider_server):
    id_token = provider_server.google_id_token({"sub": "g-68", "email": "old@example.com"}, lifetime=-10)
    assert google_token_login(id_token).status_code == 400


def test_google_id_token_with_the_email_of_an_existing_account(db, provider_server, user):
    id_token = provider_server.google_id_token({"sub": "g-69", "email": "alice@example.com"})
    response = google_token_login(id_token)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "email_taken"
    assert not Device.objects.filter(user=user).exists()


# --- admin -----------------------------------------------------------------------------------


def test_admin_shows_social_accounts_per_user_and_filters_by_provider(db, provider_server, api_client, staff_user):
    body = exchange(api_client, social_login(provider_server, "github", uid="4242")).json()
    client = Client()
    client.force_login(staff_user)
    staff_user.is_superuser = True
    staff_user.save()
    page = client.get(f"/admin/accounts/user/{body['user']['id']}/change/")
    assert page.status_code == 200
    assert b"4242" in page.content and b"github" in page.content.lower()
    listing = client.get("/admin/socialaccount/socialaccount/?provider=github")
    assert listing.status_code == 200 and b"4242" in listing.content
    assert client.get("/admin/socialaccount/socialaccount/?provider=google").content.count(b"4242") == 0


# --- the same strategy behind allauth's other app endpoints ----------------------------------


def test_allauth_refresh_endpoint_rotates_the_device_pair(db, provider_server, reuse_interval_over):
    id_token = provider_server.google_id_token({"sub": "g-80", "email": "ray@example.com", "name": "Ray"})
    meta = google_token_login(id_token).json()["meta"]
    refreshed = Client().post(
        "/_allauth/app/v1/tokens/refresh", {"refresh_token": meta["refresh"]}, content_type="application/json"
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["data"]["refresh_token"] != meta["refresh"]
    replay = Client().post(
        "/_allauth/app/v1/tokens/refresh", {"refresh_token": meta["refresh"]}, content_type="application/json"
    )
    assert replay.status_code == 400
    assert Device.objects.get(pk=meta["device"]["id"]).revoked_at is not None


def test_allauth_password_login_issues_a_local_device(db, user, password):
    response = Client().post(
        "/_allauth/app/v1/auth/login",
        {"email": user.email, "password": password},
        content_type="application/json",
        HTTP_X_DEVICE_ID="desk-1",
    )
    assert response.status_code == 200, response.content
    device = response.json()["meta"]["device"]
    assert (device["login_type"], device["device_id"]) == ("local", "desk-1")


def test_allauths_password_signup_is_closed_whatever_the_email(db, user):
    # Password sign-up is POST /api/v1/auth/register, which never says whether an email is taken;
    # allauth's answered "already registered" (and signed in at once).
    answers = [
        Client().post(
            "/_allauth/app/v1/auth/signup",
            {"email": email, "password": "Str0ng-Passw0rd"},
            content_type="application/json",
        )
        for email in ("new@example.com", user.email, "not an email")
    ]
    assert [r.status_code for r in answers] == [403] * 3
    assert len({r.content for r in answers}) == 1
    assert not User.objects.filter(email="new@example.com").exists()
    config = Client().get("/_allauth/app/v1/config").json()["data"]["account"]
    assert config["is_open_for_signup"] is False


def test_social_account_admin_list_costs_the_same_for_1_and_many_rows(db, staff_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff_user.is_superuser = True
    staff_user.save()
    client = Client()
    client.force_login(staff_user)

    def add_accounts(count, start):
        for n in range(start, start + count):
            SocialAccount.objects.create(user=UserFactory(), provider="github", uid=str(n))

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/admin/socialaccount/socialaccount/").status_code == 200
        return len(ctx)

    add_accounts(1, 0)
    one = queries()
    add_accounts(40, 1)
    assert queries() == one


def test_a_social_sign_in_sets_last_login(db, api_client, provider_server):
    from accounts.models import User

    location = social_login(provider_server, "google")
    response = exchange(api_client, location)
    assert response.status_code == 200
    user = User.objects.get(pk=response.json()["user"]["id"])
    assert user.last_login is not None, "the admin's 'last login' covers social sign-ins too"
