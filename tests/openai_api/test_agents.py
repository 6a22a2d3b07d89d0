"""``/v1`` as agents use it, through the real ``openai`` SDK against a live server: structured
output from the embedded model (its JSON schema made a grammar) and from a fake upstream, tool
calls whole and streamed, the tool results reaching the upstream intact, logprobs, the sampling
parameters forwarded, and a 400 naming the parameter a model cannot honour."""

import json

import openai
import pytest
from pydantic import BaseModel

from accounts import services as account_services
from conversations.models import LedgerEntry, Message, MessageStatus, Role
from tests.conversations.factories import LLMModelFactory
from tests.conversations.upstream import JSON_REPLY, TOOL_ANSWER, upstream  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture
def client(asgi_server, user):
    _key, secret = account_services.api_key_create(user=user, name="agent")
    with openai.OpenAI(base_url=f"{asgi_server}/v1", api_key=secret, max_retries=0, timeout=120) as sdk:
        yield sdk


@pytest.fixture
def fake(upstream):  # noqa: F811
    def model(spec: str, *capabilities: str):
        slug = spec.replace(":", "-")
        LLMModelFactory(slug=slug, upstream_model=spec, base_url=upstream.base_url, capabilities=list(capabilities))
        return slug

    return model


def _sent(upstream, spec: str) -> dict:  # noqa: F811
    return next(body for body in reversed(upstream.requests) if body["model"] == spec)


WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Today's weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CLOCK = {"type": "function", "function": {"name": "clock", "parameters": {"type": "object", "properties": {}}}}


class Person(BaseModel):
    name: str
    age: int


# --- structured output --------------------------------------------------------------------


def test_parse_with_a_pydantic_model_against_the_embedded_model(client, local_model_row):
    completion = client.chat.completions.parse(
        model=local_model_row.slug,
        messages=[{"role": "user", "content": "Invent a person: a name and an age."}],
        response_format=Person,
        max_tokens=60,
    )
    person = completion.choices[0].message.parsed
    assert isinstance(person, Person) and person.name
    assert completion.choices[0].finish_reason == "stop"


def test_the_embedded_models_json_mode_answers_json(client, local_model_row):
    completion = client.chat.completions.create(
        model=local_model_row.slug,
        messages=[{"role": "user", "content": "Give a JSON object with a key colour."}],
        response_format={"type": "json_object"},
        max_tokens=40,
    )
    assert isinstance(json.loads(completion.choices[0].message.content), dict)


def test_a_json_schema_reaches_an_upstream_as_openai_writes_it(client, fake, upstream):  # noqa: F811
    fake("json", "structured_output")
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "degrees": {"type": "integer"}},
        "required": ["city", "degrees"],
        "additionalProperties": False,
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "weather", "schema": schema, "strict": True}}
    completion = client.chat.completions.create(
        model="json", messages=[{"role": "user", "content": "weather?"}], response_format=fmt
    )
    assert json.loads(completion.choices[0].message.content) == json.loads(JSON_REPLY)
    assert _sent(upstream, "json")["response_format"] == fmt


def test_a_strict_reply_that_breaks_its_schema_is_an_error_not_prose(client, fake):
    fake("prose", "structured_output")
    fmt = {"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object"}, "strict": True}}
    with pytest.raises(openai.APIStatusError) as exc:
        client.chat.completions.create(model="prose", messages=[{"role": "user", "content": "?"}], response_format=fmt)
    assert exc.value.status_code == 502 and exc.value.body["code"] == "invalid_structured_output"
    # Streamed, the same: the text came, then an error, never a finish_reason of "stop".
    with pytest.raises(openai.APIError) as streamed:
        for _chunk in client.chat.completions.create(
            model="prose", messages=[{"role": "user", "content": "?"}], response_format=fmt, stream=True
        ):
            assert _chunk.choices[0].finish_reason is None
    assert "schema" in str(streamed.value) or "JSON" in str(streamed.value)


def test_a_reply_that_does_not_match_a_strict_schema_names_where(client, fake):
    fake("json", "structured_output")
    schema = {"type": "object", "properties": {"degrees": {"type": "string"}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "w", "schema": schema, "strict": True}}
    with pytest.raises(openai.APIStatusError) as exc:
        client.chat.completions.create(model="json", messages=[{"role": "user", "content": "?"}], response_format=fmt)
    assert exc.value.body["code"] == "invalid_structured_output" and "degrees" in exc.value.body["message"]


# --- tools ----------------------------------------------------------------------------------


def test_tool_calls_come_back_whole_and_reach_the_upstream(client, fake, upstream):  # noqa: F811
    fake("tools", "tools")
    completion = client.chat.completions.create(
        model="tools",
        messages=[{"role": "user", "content": "Seoul"}],
        tools=[WEATHER, CLOCK],
        tool_choice="auto",
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    calls = choice.message.tool_calls
    assert [call.function.name for call in calls] == ["weather", "clock"]
    assert json.loads(calls[0].function.arguments) == {"city": "Seoul"}
    assert calls[0].id == "call_0_weather" and calls[0].type == "function"
    sent = _sent(upstream, "tools")
    assert sent["tools"] == [WEATHER, CLOCK] and sent["tool_choice"] == "auto"


def test_tool_calls_stream_as_openais_deltas(client, fake):
    fake("tools", "tools")
    with client.chat.completions.stream(
        model="tools", messages=[{"role": "user", "content": "Busan"}], tools=[WEATHER], parallel_tool_calls=False
    ) as stream:
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert [(c.function.name, json.loads(c.function.arguments)) for c in choice.message.tool_calls] == [
        ("weather", {"city": "Busan"})
    ]


def test_the_tool_results_reach_the_upstream_intact_and_the_answer_uses_them(client, fake, upstream, user):  # noqa: F811
    fake("tools", "tools")
    call = {
        "id": "call_0_weather",
        "type": "function",
        "function": {"name": "weather", "arguments": '{"city":"Seoul"}'},
    }
    messages = [
        {"role": "system", "content": "Use the tools."},
        {"role": "user", "content": "Seoul"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_0_weather", "content": "12 degrees, clear"},
    ]
    completion = client.chat.completions.create(model="tools", messages=messages, tools=[WEATHER])
    assert completion.choices[0].message.content == TOOL_ANSWER + "12 degrees, clear"
    assert completion.choices[0].finish_reason == "stop"
    assert _sent(upstream, "tools")["messages"] == [
        {"role": "system", "content": "Use the tools."},
        {"role": "user", "content": "Seoul"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "content": "12 degrees, clear", "tool_call_id": "call_0_weather"},
    ]


def test_a_model_without_a_capability_is_a_400_naming_the_parameter(client, fake):
    fake("normal:3")
    fmt = {"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object"}}}
    cases = [
        ({"response_format": fmt}, "response_format"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"tools": [WEATHER]}, "tools"),
        ({"logprobs": True}, "logprobs"),
    ]
    for extra, param in cases:
        with pytest.raises(openai.BadRequestError) as exc:
            client.chat.completions.create(model="normal-3", messages=[{"role": "user", "content": "hi"}], **extra)
        assert exc.value.body["param"] == param and exc.value.body["code"] == "unsupported_parameter"
    history = [
        {"role": "user", "content": "Seoul"},
        {
            "role": "assistant",
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "w", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c", "content": "12"},
    ]
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model="normal-3", messages=history)
    assert exc.value.body["param"] == "messages" and "tool calls" in exc.value.body["message"]
    # None of these reached the model, nor cost a message.
    assert not LedgerEntry.objects.exists()


# --- the other parameters -------------------------------------------------------------------


def test_logprobs_come_back_whole_and_streamed(client, fake):
    fake("normal:4", "logprobs")
    completion = client.chat.completions.create(
        model="normal-4", messages=[{"role": "user", "content": "go"}], logprobs=True, top_logprobs=2
    )
    tokens = completion.choices[0].logprobs.content
    assert "".join(t.token for t in tokens) == completion.choices[0].message.content
    assert all(t.logprob == -0.25 for t in tokens)
    chunks = list(
        client.chat.completions.create(
            model="normal-4", messages=[{"role": "user", "content": "go"}], logprobs=True, stream=True
        )
    )
    streamed = [t for c in chunks if c.choices and c.choices[0].logprobs for t in c.choices[0].logprobs.content]
    assert len(streamed) == len(tokens)


def test_sampling_parameters_reach_the_upstream(client, fake, upstream):  # noqa: F811
    fake("normal:3")
    client.chat.completions.create(
        model="normal-3",
        messages=[{"role": "user", "content": "go"}],
        top_p=0.5,
        frequency_penalty=0.5,
        presence_penalty=-0.5,
        seed=42,
        logit_bias={"7": -100},
        user="someone",
    )
    sent = _sent(upstream, "normal:3")
    assert (sent["top_p"], sent["frequency_penalty"], sent["presence_penalty"], sent["seed"]) == (0.5, 0.5, -0.5, 42)
    assert sent["logit_bias"] == {"7": -100}
    assert "user" not in sent  # who asks is not the upstream's business


def test_values_out_of_range_and_unknown_parameters_are_refused_by_name(client, fake):
    fake("normal:3")
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(
            model="normal-3", messages=[{"role": "user", "content": "go"}], frequency_penalty=5
        )
    assert exc.value.body["param"] == "frequency_penalty"
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(
            model="normal-3", messages=[{"role": "user", "content": "go"}], extra_body={"top_k": 40}
        )
    assert exc.value.body["param"] == "top_k"
    assert exc.value.body["message"] == "Unrecognized request argument supplied: top_k"


def test_a_reply_with_tool_calls_keeps_them_when_content_is_kept(client, fake, settings, user):
    settings.CHAT = {**settings.CHAT, "API_KEEP_CONTENT": True}
    fake("tools", "tools")
    client.chat.completions.create(model="tools", messages=[{"role": "user", "content": "Seoul"}], tools=[WEATHER])
    reply = Message.objects.get(conversation__owner=user, role=Role.ASSISTANT)
    assert reply.status == MessageStatus.COMPLETE and reply.finish_reason == "tool_calls"
    assert reply.tool_calls[0]["function"]["name"] == "weather"
