"""``/v1``'s surface beside chat completions: one model (``GET /v1/models/{id}``), trailing slashes,
OpenAI's 404 for any other path and 405 for a wrong method, and CORS for ``/v1`` alone."""

import httpx
import openai
import pytest

from accounts import services as account_services
from accounts.models import Plan
from conversations.models import LLMModel
from knowledge import embeddings as knowledge_embeddings
from tests.conversations.factories import LLMModelFactory
from tests.conversations.upstream import upstream  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _embedding_settings_read_afresh():
    knowledge_embeddings.forget_settings()
    yield
    knowledge_embeddings.forget_settings()


@pytest.fixture
def key(user):
    _key, secret = account_services.api_key_create(user=user, name="script")
    return secret


@pytest.fixture
def auth(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def fast(db):
    LLMModel.objects.all().delete()  # the seeded catalog: only the models these tests make
    return LLMModelFactory(slug="fast", capabilities=["vision"])


def _error(response) -> dict:
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]


# --- one model ---------------------------------------------------------------------------------


def test_one_model_is_openais_model_object(client, auth, fast):
    r = client.get("/v1/models/fast", **auth)

    assert r.status_code == 200
    assert r.json() == {
        "id": "fast",
        "object": "model",
        "created": int(fast.created_at.timestamp()),
        "owned_by": "system",
        "capabilities": ["vision"],
    }


def test_a_model_that_is_not_there_or_not_yours_is_model_not_found(client, auth, fast):
    premium = LLMModelFactory(slug="premium-only")
    pro, _ = Plan.objects.get_or_create(slug="pro", defaults={"name": "Pro", "daily_message_limit": 0})
    premium.plans.set([pro])
    LLMModelFactory(slug="retired", enabled=False)

    for slug in ("nope", "premium-only", "retired"):
        r = client.get(f"/v1/models/{slug}", **auth)
        assert r.status_code == 404, slug
        assert _error(r) == {
            "message": f"The model '{slug}' does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }


def test_one_model_needs_a_key(client, fast):
    r = client.get("/v1/models/fast")
    assert r.status_code == 401 and _error(r)["code"] == "invalid_api_key"


def test_the_embedding_model_is_listed_and_found(client, auth, fast, settings):
    settings.CHAT = {**settings.CHAT, "LOCAL_EMBEDDING_URL": "http://127.0.0.1:9/v1"}  # listed, never called

    listed = client.get("/v1/models", **auth).json()["data"]
    one = client.get("/v1/models/smollm2-135m-embedding", **auth)

    assert [m["id"] for m in listed] == ["fast", "smollm2-135m-embedding"]
    assert listed[1] == one.json()
    assert one.json()["capabilities"] == ["embeddings"] and one.json()["object"] == "model"


def test_no_embedding_model_is_listed_when_there_is_none(client, auth, fast):
    # The test profile has no embedded embedding server (CHAT["LOCAL_EMBEDDING_URL"] empty).
    assert [m["id"] for m in client.get("/v1/models", **auth).json()["data"]] == ["fast"]
    assert client.get("/v1/models/smollm2-135m-embedding", **auth).status_code == 404


def test_the_model_configured_for_knowledge_replaces_the_embedded_one(client, auth, fast, settings):
    from knowledge.models import EmbeddingSettings

    settings.CHAT = {**settings.CHAT, "LOCAL_EMBEDDING_URL": "http://127.0.0.1:9/v1"}
    EmbeddingSettings.objects.update_or_create(
        pk=1, defaults={"enabled": True, "base_url": "http://127.0.0.1:9/v1", "model": "org/embed-v2"}
    )

    listed = [m["id"] for m in client.get("/v1/models", **auth).json()["data"]]
    one = client.get("/v1/models/org/embed-v2", **auth)  # a slash in an upstream's name

    assert listed == ["fast", "org/embed-v2"]
    assert one.status_code == 200 and one.json()["id"] == "org/embed-v2"


def test_model_reads_count_against_the_keys_rate(client, auth, fast, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "api_key": "2/min"},
    }
    assert client.get("/v1/models", **auth).status_code == 200
    assert client.get("/v1/models/fast", **auth).status_code == 200

    r = client.get("/v1/models/fast", **auth)

    assert r.status_code == 429 and _error(r)["code"] == "rate_limit_exceeded" and int(r["Retry-After"]) >= 1


# --- slashes, other paths, other methods -------------------------------------------------------


def test_trailing_slashes_are_taken(client, auth, fast):
    assert client.get("/v1/models/", **auth).status_code == 200
    assert client.get("/v1/models/fast/", **auth).json()["id"] == "fast"
    # Reaches the view (its own validation answers), not the catch-all.
    for path in ("/v1/chat/completions/", "/v1/embeddings/"):
        r = client.post(path, {}, content_type="application/json", **auth)
        assert r.status_code in (400, 404), path
        assert "Invalid URL" not in _error(r)["message"], path


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/completions"),
        ("post", "/v1/responses"),
        ("get", "/v1/"),
        ("get", "/v1/files"),
        ("delete", "/v1/chat/completions/abc"),
        ("post", "/v1/audio/speech"),
    ],
)
def test_any_other_path_is_openais_404_naming_what_there_is(client, method, path):
    r = getattr(client, method)(path)

    assert r.status_code == 404
    error = _error(r)
    assert error["type"] == "invalid_request_error" and error["param"] is None
    assert error["message"].startswith(f"Invalid URL ({method.upper()} {path}).")
    for supported in ("GET /v1/models", "GET /v1/models/{model}", "POST /v1/chat/completions", "POST /v1/embeddings"):
        assert supported in error["message"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("get", "/v1/chat/completions", "POST"),
        ("put", "/v1/chat/completions/", "POST"),
        ("get", "/v1/embeddings", "POST"),
        ("post", "/v1/models", "GET"),
        ("delete", "/v1/models/fast", "GET"),
        ("patch", "/v1/models/fast/", "GET"),
    ],
)
def test_a_known_path_with_another_method_is_405_with_allow(client, auth, method, path, allow):
    r = getattr(client, method)(path, **auth)

    assert r.status_code == 405
    assert r["Allow"] == allow
    assert _error(r)["code"] == "method_not_allowed"


def test_the_404_is_in_the_clients_language(client):
    r = client.post("/v1/completions", HTTP_ACCEPT_LANGUAGE="ko")
    assert r.status_code == 404 and "POST /v1/embeddings" in _error(r)["message"]
    assert "Invalid URL" not in _error(r)["message"]


# --- CORS ---------------------------------------------------------------------------------------


def _preflight(client, path: str, origin: str):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type,x-stainless-os",
    )


def test_cors_for_v1_is_off_by_default(client):
    r = _preflight(client, "/v1/chat/completions", "https://tool.example")
    assert "Access-Control-Allow-Origin" not in r


def test_cors_for_v1_from_its_setting_and_for_v1_alone(client, settings, auth, fast):
    settings.CHAT_API_CORS_ORIGINS = ["https://tool.example"]

    ok = _preflight(client, "/v1/chat/completions", "https://tool.example")
    other_origin = _preflight(client, "/v1/chat/completions", "https://evil.example")
    app_api = _preflight(client, "/api/v1/auth/login", "https://tool.example")
    listed = client.get("/v1/models", HTTP_ORIGIN="https://tool.example", **auth)

    assert ok.status_code == 200 and ok["Access-Control-Allow-Origin"] == "https://tool.example"
    allowed = ok["Access-Control-Allow-Headers"]
    assert "authorization" in allowed and "x-stainless-os" in allowed
    assert "Access-Control-Allow-Credentials" not in ok
    assert "Access-Control-Allow-Origin" not in other_origin
    assert "Access-Control-Allow-Origin" not in app_api  # the app's own API stays closed to it
    assert listed["Access-Control-Allow-Origin"] == "https://tool.example"
    assert "Retry-After" in listed["Access-Control-Expose-Headers"]


def test_cors_for_v1_from_any_origin(client, settings):
    settings.CHAT_API_CORS_ORIGINS = ["*"]

    r = _preflight(client, "/v1/embeddings", "https://anywhere.example")

    assert r["Access-Control-Allow-Origin"] == "https://anywhere.example"
    assert "Access-Control-Allow-Origin" not in _preflight(client, "/api/v1/auth/login", "https://anywhere.example")


# --- the real SDK on a live server ------------------------------------------------------------


@pytest.fixture
def sdk(asgi_server, key):
    with openai.OpenAI(base_url=f"{asgi_server}/v1", api_key=key, max_retries=0, timeout=30) as client:
        yield client


@pytest.mark.slow
def test_the_sdk_retrieves_a_model_and_is_told_of_one_that_is_not(sdk, fast):
    model = sdk.models.retrieve("fast")
    assert (model.id, model.object, model.owned_by) == ("fast", "model", "system")

    with pytest.raises(openai.NotFoundError) as caught:
        sdk.models.retrieve("nope")
    assert caught.value.code == "model_not_found" and caught.value.param == "model"


@pytest.mark.slow
def test_the_sdk_on_a_path_this_server_does_not_have(sdk, fast):
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.completions.create(model="fast", prompt="Hello")
    assert "POST /v1/chat/completions" in caught.value.message

    with pytest.raises(openai.NotFoundError):
        sdk.responses.create(model="fast", input="Hello")


@pytest.mark.slow
def test_a_completion_through_a_base_url_with_a_trailing_slash(asgi_server, key, upstream):  # noqa: F811
    LLMModelFactory(slug="echo", upstream_model="normal:3", base_url=upstream.base_url)
    r = httpx.post(
        f"{asgi_server}/v1/chat/completions/",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "echo", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert r.json()["object"] == "chat.completion"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(client, auth, fast, constant):
    body = '{"model": "fast", "messages": [{"role": "user", "content": "hi"}], "temperature": ' + constant + "}"
    r = client.post("/v1/chat/completions", body, content_type="application/json", **auth)
    assert r.status_code == 400 and _error(r)["message"] == "The request body is not valid JSON."


def test_an_embeddings_request_is_bounded_in_tokens_in_all(client, auth, fast):
    body = {"model": "smollm2-135m-embedding", "input": ["word " * 1000] * 400}  # ~400k tokens
    r = client.post("/v1/embeddings", body, content_type="application/json", **auth)
    assert r.status_code == 400 and _error(r)["param"] == "input" and "300000" in _error(r)["message"]
