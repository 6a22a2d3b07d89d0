"""``POST /v1/embeddings``: the real ``openai`` SDK against a live server and the embedded embedding
model's own process (SmolLM2 under llama-cpp-python with ``--embedding``), and the refusals, each
naming its ``param``, before any model is called."""

import base64
import math
import struct

import openai
import pytest

from accounts import services as account_services
from conversations.models import Conversation, LedgerEntry, LLMModel
from knowledge import embeddings as knowledge_embeddings
from knowledge.models import EmbeddingSettings
from openai_api.embeddings import EMBEDDED_DIMENSIONS, EMBEDDED_ID, MAX_INPUTS
from tests.conversations.factories import LLMModelFactory


@pytest.fixture(autouse=True)
def _embedding_settings_read_afresh():
    knowledge_embeddings.forget_settings()
    yield
    knowledge_embeddings.forget_settings()


@pytest.fixture
def key(user):
    _key, secret = account_services.api_key_create(user=user, name="rag script")
    return secret


@pytest.fixture
def auth(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def unreachable(settings, db):
    """The embedded model "configured" at a port nobody listens on: whatever reaches it fails."""
    settings.CHAT = {**settings.CHAT, "LOCAL_EMBEDDING_URL": "http://127.0.0.1:9/v1"}


def _cosine(a, b) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def _post(client, auth, body: dict):
    return client.post("/v1/embeddings", body, content_type="application/json", **auth)


# --- refusals before the model is called (no server needed) ------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("unreachable")
@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"model": EMBEDDED_ID, "input": [1, 2, 3]}, "input", "token_ids_not_supported"),
        ({"model": EMBEDDED_ID, "input": [[1, 2], [3]]}, "input", "token_ids_not_supported"),
        ({"model": EMBEDDED_ID, "input": []}, "input", None),
        ({"model": EMBEDDED_ID, "input": ["fine", ""]}, "input", None),
        ({"model": EMBEDDED_ID, "input": ["x"] * (MAX_INPUTS + 1)}, "input", None),
        ({"model": EMBEDDED_ID, "input": {"text": "x"}}, "input", None),
        ({"model": EMBEDDED_ID}, "input", None),
        ({"input": "x"}, "model", None),
        ({"model": EMBEDDED_ID, "input": "x", "encoding_format": "int8"}, "encoding_format", None),
        ({"model": EMBEDDED_ID, "input": "x", "dimensions": 0}, "dimensions", None),
        ({"model": EMBEDDED_ID, "input": "x", "dimensions": 256}, "dimensions", None),
        ({"model": EMBEDDED_ID, "input": "x", "user": 5}, "user", None),
        ({"model": EMBEDDED_ID, "input": "x", "truncate": True}, "truncate", "unknown_parameter"),
    ],
)
def test_refusals_name_their_param(client, auth, body, param, code):
    r = _post(client, auth, body)

    assert r.status_code == 400, r.json()
    error = r.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)


@pytest.mark.django_db
@pytest.mark.usefixtures("unreachable")
def test_a_chat_model_is_not_an_embedding_model(client, auth):
    LLMModelFactory(slug="fast")

    chat = _post(client, auth, {"model": "fast", "input": "x"}).json()["error"]
    unknown = _post(client, auth, {"model": "text-embedding-3-small", "input": "x"})

    assert (chat["param"], chat["code"]) == ("model", "model_not_supported") and EMBEDDED_ID in chat["message"]
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"


@pytest.mark.django_db
def test_no_embedding_model_at_all_is_model_not_found(client, auth):
    # The test profile: no embedded embedding server, nothing configured for knowledge.
    r = _post(client, auth, {"model": EMBEDDED_ID, "input": "x"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"


@pytest.mark.django_db
def test_it_needs_a_key_and_json(client, auth):
    assert client.post("/v1/embeddings", {}, content_type="application/json").status_code == 401
    r = client.post("/v1/embeddings", "input=x", content_type="application/x-www-form-urlencoded", **auth)
    assert r.status_code == 415


@pytest.mark.django_db
@pytest.mark.usefixtures("unreachable")
def test_an_unreachable_model_is_a_503_the_sdk_retries(client, auth):
    r = _post(client, auth, {"model": EMBEDDED_ID, "input": "x"})

    assert r.status_code == 503
    assert r.json()["error"]["code"] == "upstream_unreachable" and "x-should-retry" not in r


@pytest.mark.django_db
@pytest.mark.usefixtures("unreachable")
def test_it_counts_against_the_keys_rate(client, auth, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "api_key": "1/min"},
    }
    assert client.get("/v1/models", **auth).status_code == 200

    r = _post(client, auth, {"model": EMBEDDED_ID, "input": "x"})

    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limit_exceeded"


# --- the real SDK, a live server, the embedded embedding model --------------------------------


@pytest.fixture
def sdk(asgi_server, key, local_embedding):
    LLMModel.objects.all().delete()
    with openai.OpenAI(base_url=f"{asgi_server}/v1", api_key=key, max_retries=0, timeout=120) as client:
        yield client


@pytest.mark.slow
def test_the_sdk_embeds_with_the_embedded_model(sdk):
    # The SDK asks for base64 by default and decodes it: what arrives is the vector, whole.
    response = sdk.embeddings.create(model=EMBEDDED_ID, input="The cat sat on the mat.")

    (item,) = response.data
    assert response.object == "list" and response.model == EMBEDDED_ID and item.index == 0
    assert len(item.embedding) == EMBEDDED_DIMENSIONS
    assert math.isclose(math.sqrt(sum(x * x for x in item.embedding)), 1.0, rel_tol=1e-4)  # unit length
    assert response.usage.prompt_tokens == response.usage.total_tokens > 0

    floats = sdk.embeddings.create(model=EMBEDDED_ID, input="The cat sat on the mat.", encoding_format="float")
    assert floats.data[0].embedding == pytest.approx(item.embedding, abs=1e-6)
    # No reply was asked for: nothing of the plan's daily messages is spent, no conversation made.
    assert not LedgerEntry.objects.exists() and not Conversation.objects.exists()


@pytest.mark.slow
def test_a_list_keeps_its_order_and_similar_texts_are_closer(sdk):
    texts = [
        "The cat sat on the mat.",
        "A kitten is sitting on a rug.",
        "Quarterly revenue grew by ten percent.",
        "The stock market fell sharply today.",
    ]
    response = sdk.embeddings.create(model=EMBEDDED_ID, input=texts, encoding_format="float")
    one = sdk.embeddings.create(model=EMBEDDED_ID, input=texts[2], encoding_format="float")

    vectors = [d.embedding for d in response.data]
    assert [d.index for d in response.data] == [0, 1, 2, 3]
    assert vectors[2] == pytest.approx(one.data[0].embedding, abs=1e-4)  # its own vector, in its place
    assert _cosine(vectors[0], vectors[1]) > _cosine(vectors[0], vectors[2])
    assert _cosine(vectors[2], vectors[3]) > _cosine(vectors[1], vectors[3])


@pytest.mark.slow
def test_korean_is_embedded_and_counted_by_the_models_tokenizer(sdk):
    response = sdk.embeddings.create(model=EMBEDDED_ID, input="안녕하세요, 반갑습니다.")

    assert len(response.data[0].embedding) == EMBEDDED_DIMENSIONS
    assert response.usage.prompt_tokens > 5  # SmolLM2 spends bytes on Hangul, not 4 characters a token


@pytest.mark.slow
def test_an_input_over_the_window_is_refused_not_cut(sdk):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.embeddings.create(model=EMBEDDED_ID, input=["short", "word " * 3000])

    assert caught.value.code == "context_length_exceeded" and caught.value.param == "input"
    assert "input[1]" in caught.value.message and "2048" in caught.value.message
    # Long in bytes but within the window (counted by the tokenizer, not guessed): taken.
    assert sdk.embeddings.create(model=EMBEDDED_ID, input="word " * 1500).usage.prompt_tokens > 1000


@pytest.mark.slow
def test_dimensions_the_model_has_are_taken_others_refused(sdk):
    same = sdk.embeddings.create(model=EMBEDDED_ID, input="x y", dimensions=EMBEDDED_DIMENSIONS)
    assert len(same.data[0].embedding) == EMBEDDED_DIMENSIONS

    with pytest.raises(openai.BadRequestError) as caught:
        sdk.embeddings.create(model=EMBEDDED_ID, input="x y", dimensions=256)
    assert caught.value.param == "dimensions"


@pytest.mark.slow
def test_token_ids_are_refused_through_the_sdk(sdk):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.embeddings.create(model=EMBEDDED_ID, input=[[9906, 1917]])
    assert (caught.value.param, caught.value.code) == ("input", "token_ids_not_supported")


@pytest.mark.slow
def test_the_model_configured_for_knowledge_is_the_one_used(sdk, embedding_server):
    # Knowledge's embedding model (here: the same server under another name) replaces the default.
    EmbeddingSettings.objects.update_or_create(
        pk=1, defaults={"enabled": True, "base_url": embedding_server, "model": "team-embedder"}
    )

    assert [m.id for m in sdk.models.list()] == ["team-embedder"]
    response = sdk.embeddings.create(model="team-embedder", input="hello")  # base64, decoded by the SDK
    assert response.model == "team-embedder" and len(response.data[0].embedding) == EMBEDDED_DIMENSIONS
    with pytest.raises(openai.NotFoundError):
        sdk.embeddings.create(model=EMBEDDED_ID, input="hello")
    # Its upstream takes no `dimensions` and answers its own size: refused, never ignored.
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.embeddings.create(model="team-embedder", input="hello", dimensions=128)
    assert caught.value.param == "dimensions"


@pytest.mark.slow
def test_base64_is_little_endian_float32(asgi_server, key, local_embedding):
    import httpx

    LLMModel.objects.all().delete()
    body = {"model": EMBEDDED_ID, "input": "hello"}
    headers = {"Authorization": f"Bearer {key}"}
    floats = httpx.post(f"{asgi_server}/v1/embeddings", json=body, headers=headers, timeout=60).json()
    encoded = httpx.post(
        f"{asgi_server}/v1/embeddings", json={**body, "encoding_format": "base64"}, headers=headers, timeout=60
    ).json()

    raw = base64.b64decode(encoded["data"][0]["embedding"])
    decoded = struct.unpack(f"<{len(raw) // 4}f", raw)
    assert list(decoded) == pytest.approx(floats["data"][0]["embedding"], abs=1e-6)


def test_the_embedding_process_is_the_shipped_model_pooled_with_a_batch_as_large_as_its_window(monkeypatch):
    from conversations.llm import model_server

    monkeypatch.setenv("CHAT_LOCAL_MODEL_THREADS", "3")

    argv = model_server.command("127.0.0.1", 9998, embedding=True)

    assert argv[:3] == [model_server.sys.executable, "-m", "llama_cpp.server"]
    flags = dict(zip(argv[3::2], argv[4::2], strict=True))
    window = str(model_server.EMBEDDING_CONTEXT)
    assert flags == {
        "--model": model_server.model_path(),
        "--model_alias": model_server.EMBEDDING_ALIAS,
        "--host": "127.0.0.1",
        "--port": "9998",
        "--embedding": "True",
        "--kv_overrides": "llama.pooling_type=int:1",  # mean: one vector per input, not per token
        # llama-cpp-python cuts an input to one batch: the batch is the window, and longer inputs
        # are refused before they are sent (test_an_input_over_the_window_is_refused_not_cut).
        "--n_ctx": window,
        "--n_batch": window,
        "--n_ubatch": window,
        "--n_threads": "3",
    }
