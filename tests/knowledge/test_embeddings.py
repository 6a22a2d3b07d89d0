"""The optional embedding model, against a fake OpenAI-compatible /embeddings upstream that
records what it is sent: vectors for indexed passages (in the job), the re-rank, the fallback."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError

from knowledge import embeddings
from knowledge.models import EmbeddingSettings, PassageEmbedding
from knowledge.retrieval import retrieve

from .factories import ready_file

pytestmark = pytest.mark.django_db

# The fake model's "meaning": dimension 0 is about cats, 1 about dogs, 2 everything else.
CONCEPTS = (("cat", "kitten", "feline"), ("dog", "puppy", "canine"))


def _vector(text: str) -> list[float]:
    lowered = text.lower()
    return [float(sum(lowered.count(w) for w in words)) for words in CONCEPTS] + [0.1]


@pytest.fixture
def upstream():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
            data = [{"object": "embedding", "index": i, "embedding": _vector(t)} for i, t in enumerate(body["input"])]
            payload = json.dumps({"object": "list", "data": data, "model": body["model"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.received = received
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def enabled(upstream, monkeypatch):
    monkeypatch.setenv("LLM_KEY_EMBED", "sk-embed-test")
    EmbeddingSettings.objects.update_or_create(
        pk=1,
        defaults={
            "enabled": True,
            "base_url": upstream.base_url,
            "model": "fake-embed",
            "api_key_env": "LLM_KEY_EMBED",
        },
    )
    embeddings.forget_settings()
    yield upstream
    embeddings.forget_settings()


PAGES = [
    "Animal shelter notes: the shelter keeps a kitten named Mochi, a small feline, and a cat tree.",
    "Animal shelter notes: the shelter keeps a puppy named Bori, a young canine, and a dog bed.",
]


def test_indexed_passages_get_vectors_in_the_job(user, enabled, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        doc = ready_file(user, "shelter.pdf", PAGES)

    stored = PassageEmbedding.objects.filter(passage__file=doc)
    assert stored.count() == 2 and set(stored.values_list("model", flat=True)) == {"fake-embed"}
    request = enabled.received[0]
    assert request["path"] == "/v1/embeddings" and request["model"] == "fake-embed"
    assert request["auth"] == "Bearer sk-embed-test"
    assert sorted(request["input"]) == sorted(PAGES)


def test_vectors_re_rank_bm25s_candidates(user, enabled, django_capture_on_commit_callbacks, settings):
    settings.KNOWLEDGE = {**settings.KNOWLEDGE, "MIN_RELATIVE_SCORE": 0.0}
    pages = [
        "Animal shelter: Mochi the kitten.",  # short: BM25 prefers it for "animal shelter"
        "Animal shelter notes: Bori is a playful puppy, a young canine who loves long walks outside.",
    ]
    with django_capture_on_commit_callbacks(execute=True):
        doc = ready_file(user, "shelter.pdf", pages)
    question = "animal shelter dog"  # "dog" is in neither page: only the vectors know Bori is one

    embeddings.forget_settings()
    EmbeddingSettings.objects.filter(pk=1).update(weight=0.0)  # BM25 alone
    assert [h.page for h in retrieve(owner_id=user.pk, question=question, file_ids=[doc.pk], budget_tokens=500)] == [
        1,
        2,
    ]
    embeddings.forget_settings()
    EmbeddingSettings.objects.filter(pk=1).update(weight=0.5)
    assert [h.page for h in retrieve(owner_id=user.pk, question=question, file_ids=[doc.pk], budget_tokens=500)] == [
        2,
        1,
    ]
    assert enabled.received[-1]["input"] == [question]


def test_an_unreachable_upstream_leaves_bm25_alone(user, enabled, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        doc = ready_file(user, "shelter.pdf", PAGES)
    row = EmbeddingSettings.current()
    row.base_url = "http://127.0.0.1:9/v1"  # nothing listens on the discard port
    row.timeout_seconds = 1
    row.save()
    embeddings.forget_settings()

    hits = retrieve(owner_id=user.pk, question="kitten named Mochi", file_ids=[doc.pk], budget_tokens=500)
    assert hits[0].page == 1
    with django_capture_on_commit_callbacks(execute=True):
        ready_file(user, "more.pdf", ["Another kitten page."])  # its job fails quietly


def test_off_by_default_and_nothing_is_called(user, upstream, django_capture_on_commit_callbacks):
    embeddings.forget_settings()
    with django_capture_on_commit_callbacks(execute=True):
        doc = ready_file(user, "shelter.pdf", PAGES)
    assert retrieve(owner_id=user.pk, question="kitten", file_ids=[doc.pk], budget_tokens=500)[0].page == 1
    assert upstream.received == [] and not PassageEmbedding.objects.exists()


def test_the_settings_refuse_a_servers_own_variable_and_an_incomplete_row():
    row = EmbeddingSettings(enabled=True, base_url="http://example.com/v1", model="m", api_key_env="DJANGO_SECRET_KEY")
    with pytest.raises(ValidationError) as error:
        row.full_clean()
    assert "api_key_env" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        EmbeddingSettings(enabled=True).full_clean()
    assert "enabled" in error.value.message_dict


def test_the_admin_opens_the_one_row(client, django_user_model):
    admin = django_user_model.objects.create_superuser(email="root@example.com", password="Sunny-Day-42")
    client.force_login(admin)
    response = client.get("/admin/knowledge/embeddingsettings/")
    assert response.status_code == 302 and response["Location"].endswith("/admin/knowledge/embeddingsettings/1/change/")
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("seconds", "valid"), [(0, False), (-1, False), (10.5, False), (300, False), (0.5, True), (10, True)]
)
def test_the_timeout_is_more_than_0_and_at_most_10_seconds(seconds, valid):
    row = EmbeddingSettings(base_url="http://example.com/v1", model="m", timeout_seconds=seconds)
    if valid:
        row.full_clean()
        return
    with pytest.raises(ValidationError) as error:
        row.full_clean()
    assert "timeout_seconds" in error.value.message_dict


def test_a_vector_given_to_retrieve_is_used_and_none_is_fetched(user, enabled, django_capture_on_commit_callbacks):
    from array import array

    with django_capture_on_commit_callbacks(execute=True):
        doc = ready_file(user, "shelter.pdf", ["Animal shelter: Mochi the kitten.", "Animal shelter: Bori the puppy."])
    calls = len(enabled.received)
    dog = array("f", [0.0, 1.0, 0.1])
    hits = retrieve(owner_id=user.pk, question="animal shelter", file_ids=[doc.pk], question_vector=dog)
    assert hits[0].page == 2 and len(enabled.received) == calls  # no call: the vector came with the question
    failed = retrieve(owner_id=user.pk, question="animal shelter", file_ids=[doc.pk], question_vector=array("f"))
    assert [h.page for h in failed] == [1, 2] and len(enabled.received) == calls  # BM25 alone


def test_a_failing_upstream_is_logged_by_scheme_and_host_only(
    user, enabled, caplog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        doc = ready_file(user, "shelter.pdf", PAGES)
    EmbeddingSettings.objects.filter(pk=1).update(
        base_url="http://embeduser:pa55word@127.0.0.1:9/v1?key=SECRET-KEY-123", timeout_seconds=1
    )
    embeddings.forget_settings()
    with caplog.at_level("WARNING", logger="knowledge.embeddings"):
        retrieve(owner_id=user.pk, question="kitten named Mochi", file_ids=[doc.pk], budget_tokens=500)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "http://127.0.0.1:9" in logged
    assert "pa55word" not in logged and "embeduser" not in logged and "SECRET-KEY" not in logged and "/v1" not in logged


def test_only_superusers_change_the_settings_and_changes_are_audited(client, django_user_model):
    from auditlog.models import LogEntry
    from django.contrib.auth.models import Permission

    row = EmbeddingSettings.current()
    staff = django_user_model.objects.create_user(email="staff@example.com", password="Sunny-Day-42", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_embeddingsettings", "change_embeddingsettings"])
    )
    url = f"/admin/knowledge/embeddingsettings/{row.pk}/change/"
    form = {
        "enabled": "on",
        "base_url": "http://attacker.example/v1",
        "model": "m",
        "api_key_env": "",
        "weight": "0.5",
        "timeout_seconds": "5",
    }
    client.force_login(staff)
    client.post(url, form)
    row.refresh_from_db()
    assert not row.enabled and row.base_url == ""  # a staff member with the permission still cannot

    admin = django_user_model.objects.create_superuser(email="root@example.com", password="Sunny-Day-42")
    client.force_login(admin)
    response = client.post(url, {**form, "base_url": "http://127.0.0.1:8000/v1"})
    assert response.status_code == 302, response.content
    row.refresh_from_db()
    assert row.enabled and row.base_url == "http://127.0.0.1:8000/v1"
    entry = LogEntry.objects.get_for_object(row).latest("timestamp")
    assert entry.actor == admin and entry.changes_dict["base_url"][1] == "http://127.0.0.1:8000/v1"
    embeddings.forget_settings()
