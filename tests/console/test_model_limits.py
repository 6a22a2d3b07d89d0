"""A new model's context window and output limit come from its upstream where it says them
(llama.cpp's ``GET /props``, an OpenAI-compatible ``GET /models`` entry) or are asked for, in the
admin's add form and ``manage.py model_add``; "Test connection" is a button on a model's page.
Every upstream here is a real HTTP server on a local socket."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.core.management.base import CommandError

from conversations.llm.limits import upstream_limits
from conversations.models import LLMModel
from tests.conversations.factories import LLMModelFactory

pytestmark = pytest.mark.django_db


class _Handler(BaseHTTPRequestHandler):
    server: "FakeUpstream"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.paths.append(self.path)
        body = self.server.routes.get(self.path)
        data = json.dumps(body if body is not None else {"error": "not found"}).encode()
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeUpstream(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, routes: dict):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes = routes
        self.paths: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


@pytest.fixture
def upstream():
    servers = []

    def start(routes: dict) -> FakeUpstream:
        server = FakeUpstream(routes)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def llama_cpp(n_ctx=8192, n_predict=-1) -> dict:
    """llama.cpp's server: /v1/models lists the model (training context in ``meta``), /props the
    context it serves."""
    return {
        "/v1/models": {"object": "list", "data": [{"id": "qwen", "object": "model", "meta": {"n_ctx_train": 32768}}]},
        "/props": {"default_generation_settings": {"n_ctx": n_ctx, "params": {"n_predict": n_predict}}},
    }


def vllm() -> dict:
    return {
        "/v1/models": {
            "object": "list",
            "data": [
                {"id": "other", "object": "model", "max_model_len": 1024},
                {"id": "qwen", "object": "model", "max_model_len": 16384, "max_tokens": 2048},
            ],
        }
    }


def silent() -> dict:
    return {"/v1/models": {"object": "list", "data": [{"id": "qwen", "object": "model"}]}}


# --- what an upstream says --------------------------------------------------------------------


def test_vllm_says_both_in_its_models_entry(upstream):
    server = upstream(vllm())
    limits = upstream_limits(LLMModel(provider="openai", base_url=server.base_url, upstream_model="qwen"))
    assert (limits.context_window, limits.max_output_tokens) == (16384, 2048)
    assert limits.context_source == "GET /models"


def test_llama_cpp_props_give_the_context_it_serves(upstream):
    server = upstream(llama_cpp(n_ctx=8192, n_predict=1024))
    limits = upstream_limits(LLMModel(provider="openai", base_url=server.base_url, upstream_model="qwen"))
    # The context the server was started with, not the one the model was trained for (32,768).
    assert (limits.context_window, limits.context_source) == (8192, "GET /props")
    assert (limits.max_output_tokens, limits.output_source) == (1024, "GET /props")


def test_llama_cpp_without_meta_reads_props(upstream):
    routes = llama_cpp(n_ctx=4096)
    routes["/v1/models"] = silent()["/v1/models"]
    server = upstream(routes)
    limits = upstream_limits(LLMModel(provider="openai", base_url=server.base_url, upstream_model="qwen"))
    assert (limits.context_window, limits.context_source) == (4096, "GET /props")
    assert limits.max_output_tokens is None  # n_predict -1: no limit said
    assert "/props" in server.paths


def test_an_upstream_that_is_down_says_nothing_and_why():
    limits = upstream_limits(
        LLMModel(provider="openai", base_url="http://127.0.0.1:9/v1", upstream_model="qwen"), timeout=1
    )
    assert (limits.context_window, limits.max_output_tokens) == (None, None)
    assert "127.0.0.1:9" in limits.problem


# --- manage.py model_add ------------------------------------------------------------------------


def test_model_add_takes_the_limits_the_upstream_says(upstream, capsys):
    server = upstream(vllm())
    call_command("model_add", "qwen", "--base-url", server.base_url, "--upstream-model", "qwen")
    model = LLMModel.objects.get(slug="qwen")
    assert (model.context_window, model.max_output_tokens) == (16384, 2048)
    assert "16,384" in capsys.readouterr().out


def test_model_add_asks_for_what_the_upstream_does_not_say(upstream):
    server = upstream(silent())
    with pytest.raises(CommandError, match="give --context-window and --max-output-tokens"):
        call_command("model_add", "qwen", "--base-url", server.base_url, "--upstream-model", "qwen")
    assert not LLMModel.objects.filter(slug="qwen").exists()
    call_command(
        "model_add",
        "qwen",
        "--base-url",
        server.base_url,
        "--upstream-model",
        "qwen",
        "--context-window",
        "6000",
        "--max-output-tokens",
        "700",
    )
    assert LLMModel.objects.filter(slug="qwen", context_window=6000, max_output_tokens=700).exists()


def test_model_add_given_limits_win_and_updates_ask_nothing(upstream):
    server = upstream(vllm())
    call_command(
        "model_add", "qwen", "--base-url", server.base_url, "--upstream-model", "qwen", "--context-window", "9000"
    )
    assert LLMModel.objects.filter(slug="qwen", context_window=9000, max_output_tokens=2048).exists()
    server.paths.clear()
    call_command("model_add", "qwen", "--base-url", server.base_url, "--upstream-model", "qwen")
    assert server.paths == []  # an update keeps what the row has


# --- the admin's add form ---------------------------------------------------------------------

ADD = "/admin/conversations/llmmodel/add/"


def _form(base_url: str, **extra) -> dict:
    return {
        "slug": "qwen",
        "display_name": "Qwen",
        "description": "",
        "enabled": "on",
        "order": "0",
        "provider": "openai",
        "upstream_model": "qwen",
        "base_url": base_url,
        "api_key_env": "",
        "request_timeout_seconds": "60",
        "context_window": "",
        "max_output_tokens": "",
        "temperature": "0.7",
        **extra,
    }


def test_the_add_form_offers_no_default_limits(admin_client):
    html = admin_client.get(ADD).content.decode()
    for name in ("context_window", "max_output_tokens"):
        field = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        assert 'value="' not in field, field


def test_the_add_form_fills_the_limits_from_llama_cpp(admin_client, upstream):
    routes = llama_cpp(n_ctx=8192, n_predict=1024)
    routes["/v1/models"] = silent()["/v1/models"]
    server = upstream(routes)
    response = admin_client.post(ADD, _form(server.base_url))
    assert response.status_code == 302, response.content.decode()[:2000]
    model = LLMModel.objects.get(slug="qwen")
    assert (model.context_window, model.max_output_tokens) == (8192, 1024)
    notes = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("8,192" in note and "/props" in note for note in notes), notes


def test_the_add_form_refuses_to_save_when_the_upstream_does_not_say(admin_client, upstream):
    server = upstream(silent())
    response = admin_client.post(ADD, _form(server.base_url))
    assert response.status_code == 200
    assert not LLMModel.objects.filter(slug="qwen").exists()
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"context_window", "max_output_tokens"}
    assert "does not say" in str(errors["context_window"])

    response = admin_client.post(ADD, _form(server.base_url, context_window="5000", max_output_tokens="600"))
    assert response.status_code == 302
    assert LLMModel.objects.filter(slug="qwen", context_window=5000, max_output_tokens=600).exists()


def test_the_add_form_in_korean(admin_client, admin_user, upstream):
    from accounts.services import user_settings_get

    row = user_settings_get(user=admin_user)
    row.language = "ko"
    row.save(update_fields=["language"])
    server = upstream(silent())
    response = admin_client.post(ADD, _form(server.base_url))
    errors = str(response.context["adminform"].form.errors["context_window"])
    assert "컨텍스트" in errors, errors


# --- "Test connection" on a model's page --------------------------------------------------------


def test_test_connection_is_a_button_on_the_models_page(admin_client, upstream):
    server = upstream(vllm())
    model = LLMModelFactory(slug="qwen", provider="openai", base_url=server.base_url, upstream_model="qwen")
    page = admin_client.get(f"/admin/conversations/llmmodel/{model.pk}/change/").content.decode()
    url = f"/admin/conversations/llmmodel/{model.pk}/test-connection/"
    assert f'href="{url}"' in page

    response = admin_client.get(url)
    assert response.status_code == 302 and response.url == f"/admin/conversations/llmmodel/{model.pk}/change/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["qwen: OK"]
    admin_client.get(response.url)  # the page shows the message, and it is gone

    missing = LLMModelFactory(slug="gone", provider="openai", base_url=server.base_url, upstream_model="nope")
    response = admin_client.get(f"/admin/conversations/llmmodel/{missing.pk}/test-connection/")
    notes = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(notes) == 1 and notes[0].startswith("gone: failed:") and "does not list 'nope'" in notes[0]
