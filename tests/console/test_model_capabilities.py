"""What a model honours (``capabilities``: vision, structured_output, tools, logprobs): set by staff
in the admin or with ``manage.py model_add --capabilities``, and filled in by "Test connection"
where the upstream says so (OpenRouter's ``supported_parameters``, a ``capabilities`` list, llama.cpp's
``/props``, Ollama's ``/api/show``). Every upstream here is a real HTTP server on a local socket."""

import json

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command

from conversations.llm.capability_probe import upstream_capabilities
from conversations.models import LLMModel
from tests.console.test_model_limits import FakeUpstream, _Handler, upstream  # noqa: F401
from tests.conversations.factories import LLMModelFactory

pytestmark = pytest.mark.django_db


class _OllamaHandler(_Handler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        asked = json.loads(self.rfile.read(length) or b"{}")
        self.server.paths.append(f"POST {self.path} {asked.get('model')}")
        body = self.server.routes.get(f"POST {self.path}")
        data = json.dumps(body or {"error": "not found"}).encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _model(server, name="m", **extra) -> LLMModel:
    return LLMModelFactory(slug=name, provider="openai", base_url=server.base_url, upstream_model=name, **extra)


def test_openrouter_supported_parameters(upstream):  # noqa: F811
    server = upstream(
        {
            "/v1/models": {
                "data": [
                    {"id": "other", "supported_parameters": ["tools"]},
                    {"id": "m", "supported_parameters": ["tools", "tool_choice", "structured_outputs", "temperature"]},
                ]
            }
        }
    )
    assert upstream_capabilities(_model(server)) == (["structured_output", "tools"], "GET /models")


def test_a_capabilities_list_or_object_in_the_models_entry(upstream):  # noqa: F811
    server = upstream({"/v1/models": {"data": [{"id": "m", "capabilities": ["tool_use", "vision"]}]}})
    assert upstream_capabilities(_model(server))[0] == ["vision", "tools"]
    server = upstream(
        {"/v1/models": {"data": [{"id": "n", "capabilities": {"function_calling": True, "vision": False}}]}}
    )
    assert upstream_capabilities(_model(server, "n"))[0] == ["tools"]


def test_llama_cpp_props_say_json_schemas_logprobs_and_what_its_template_does(upstream):  # noqa: F811
    props = {"default_generation_settings": {"n_ctx": 4096}, "chat_template_caps": {"supports_tools": True}}
    server = upstream({"/v1/models": {"data": [{"id": "m"}]}, "/props": props})
    assert upstream_capabilities(_model(server)) == (["structured_output", "tools", "logprobs"], "GET /props")
    props["chat_template_caps"]["supports_tools"] = False
    assert upstream_capabilities(_model(server))[0] == ["structured_output", "logprobs"]


def test_ollama_is_asked_with_api_show(upstream):  # noqa: F811
    server = upstream(
        {"/v1/models": {"data": [{"id": "m"}]}, "POST /api/show": {"capabilities": ["completion", "tools"]}}
    )
    server.RequestHandlerClass = _OllamaHandler
    assert upstream_capabilities(_model(server)) == (["tools"], "POST /api/show")
    assert "POST /api/show m" in server.paths


def test_an_upstream_that_says_nothing_adds_nothing(upstream):  # noqa: F811
    server = upstream({"/v1/models": {"data": [{"id": "m"}]}})
    assert upstream_capabilities(_model(server)) == ([], "")


def test_the_embedded_models_server_honours_json_schemas():
    assert upstream_capabilities(LLMModel(provider="local", upstream_model="SmolLM2-135M-Instruct"))[0] == [
        "structured_output"
    ]


def test_the_embedded_models_seeded_row_says_so_out_of_the_box():
    # Migration 0015 on the row 0002 seeded (the test database is migrated).
    assert LLMModel.objects.get(slug="smollm2-135m").capabilities == ["structured_output"]


def test_test_connection_adds_what_the_upstream_says_and_takes_nothing_away(admin_client, upstream):  # noqa: F811
    server = upstream({"/v1/models": {"data": [{"id": "m", "supported_parameters": ["tools", "logprobs"]}]}})
    model = _model(server, capabilities=["vision"])
    response = admin_client.get(f"/admin/conversations/llmmodel/{model.pk}/test-connection/")
    notes = [str(m) for m in get_messages(response.wsgi_request)]
    assert notes == [
        "m: OK",
        "m: the upstream (GET /models) says it supports tools, logprobs. Added to its capabilities: tools, logprobs.",
    ]
    model.refresh_from_db()
    assert model.capabilities == ["vision", "tools", "logprobs"]
    # Again: nothing new to add.
    response = admin_client.get(f"/admin/conversations/llmmodel/{model.pk}/test-connection/")
    assert [str(m) for m in get_messages(response.wsgi_request)][-1] == (
        "m: the upstream (GET /models) says it supports tools, logprobs."
    )


def test_model_add_takes_the_new_capabilities(upstream, capsys):  # noqa: F811
    server = upstream({"/v1/models": {"data": [{"id": "m"}]}})
    call_command(
        "model_add",
        "agentic",
        "--base-url",
        server.base_url,
        "--upstream-model",
        "m",
        "--context-window",
        "8192",
        "--max-output-tokens",
        "1024",
        "--capabilities",
        "tools,structured_output,logprobs",
    )
    assert LLMModel.objects.get(slug="agentic").capabilities == ["structured_output", "tools", "logprobs"]
    assert "capabilities: structured_output, tools, logprobs" in capsys.readouterr().out


def test_the_admin_form_offers_every_capability(admin_client):
    page = admin_client.get("/admin/conversations/llmmodel/add/").content.decode()
    for name in ("vision", "structured_output", "tools", "logprobs"):
        assert f'value="{name}"' in page
