"""``POST /v1/chat/completions``'s body as the serializer reads it (no server, no database): what it
accepts and how it shapes it for the reply (system prompt, turns, limits), and what it refuses with
the ``param`` the 400 names (``errors.first_field_error``, as the view calls it)."""

import pytest

from conversations.services import SYSTEM_PROMPT_MAX_CHARS
from openai_api.errors import first_field_error
from openai_api.serializers import MAX_MESSAGES, MAX_STOP_SEQUENCES, ChatCompletionRequestSerializer

USER = {"role": "user", "content": "Hello"}


def _read(**body) -> ChatCompletionRequestSerializer:
    body.setdefault("model", "fast")
    body.setdefault("messages", [USER])
    return ChatCompletionRequestSerializer(data=body)


def accepted(**body) -> dict:
    data = _read(**body)
    assert data.is_valid(), data.errors
    return data.validated_data


def refused(**body) -> tuple[str, str]:
    """(param, message) of the 400 the view answers."""
    data = _read(**body)
    assert not data.is_valid()
    return first_field_error(data.errors)


# --- messages -------------------------------------------------------------------------------


def test_a_user_message_is_the_whole_history_with_openai_defaults():
    v = accepted()
    assert v["turns"] == [{"role": "user", "content": "Hello"}]
    assert v["system"] == ""
    assert v["stream"] is False
    assert v["include_usage"] is False
    assert v["max_tokens"] is None


def test_system_and_developer_messages_become_the_system_prompt_in_order():
    v = accepted(
        messages=[
            {"role": "system", "content": "Be brief."},
            USER,
            {"role": "developer", "content": "Answer in French."},
            {"role": "assistant", "content": "Bonjour"},
            {"role": "user", "content": "Again"},
        ]
    )
    assert v["system"] == "Be brief.\n\nAnswer in French."
    assert v["turns"] == [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Bonjour"},
        {"role": "user", "content": "Again"},
    ]


def test_an_assistant_turn_without_content_or_calls_is_left_out_of_the_history():
    v = accepted(messages=[USER, {"role": "assistant", "content": None}, {"role": "user", "content": "And?"}])
    assert v["turns"] == [{"role": "user", "content": "Hello"}, {"role": "user", "content": "And?"}]


CALL = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Seoul"}'}}


def test_tool_calls_and_their_results_are_kept_intact_for_the_upstream():
    v = accepted(
        messages=[
            USER,
            {"role": "assistant", "content": None, "tool_calls": [CALL]},
            {"role": "tool", "tool_call_id": "call_1", "content": "12 degrees"},
        ]
    )
    assert v["turns"] == [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "", "tool_calls": [CALL]},
        {"role": "tool", "content": "12 degrees", "tool_call_id": "call_1"},
    ]
    # The model must be able to read them: the service checks for the tools capability.
    assert v["needs"] == {"tools": "messages"}


def test_a_tool_message_answers_a_call_made_before_it():
    assert refused(messages=[USER, {"role": "tool", "content": "42"}])[0] == "messages[1].tool_call_id"
    param, message = refused(messages=[USER, {"role": "tool", "tool_call_id": "call_9", "content": "42"}])
    assert param == "messages[1].tool_call_id"
    assert "tool call" in message


def test_every_tool_call_is_answered_before_the_conversation_goes_on():
    param, message = refused(
        messages=[USER, {"role": "assistant", "tool_calls": [CALL]}, {"role": "user", "content": "And?"}]
    )
    assert param == "messages[2]" and "call_1" in message
    assert refused(messages=[USER, {"role": "assistant", "tool_calls": [CALL]}])[0] == "messages"


def test_a_malformed_tool_call_is_refused_naming_it():
    bad = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": {"city": "Seoul"}}}
    assert refused(messages=[USER, {"role": "assistant", "tool_calls": [bad]}])[0] == "messages[1].tool_calls"
    assert refused(messages=[{**USER, "tool_calls": [CALL]}])[0] == "messages[0].tool_calls"


def test_text_parts_are_joined_by_newlines():
    parts = [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]
    v = accepted(messages=[{"role": "user", "content": parts}])
    assert v["turns"] == [{"role": "user", "content": "one\ntwo"}]


def test_an_image_by_http_url_is_refused_naming_the_message_content():
    # This server fetches no URL a client names (that would be a request forgery): data URLs only.
    parts = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]
    param, message = refused(
        messages=[USER, {"role": "assistant", "content": "Hi"}, {"role": "user", "content": parts}]
    )
    assert param == "messages[2].content"
    assert "data:image" in message and message.code == "image_url_not_supported"


@pytest.mark.parametrize("content", [5, {"text": "Hello"}, [{"type": "text", "text": 5}], ["Hello"]])
def test_content_of_another_shape_is_refused(content):
    param, _message = refused(messages=[{"role": "user", "content": content}])
    assert param == "messages[0].content"


@pytest.mark.parametrize("message", [{"role": "user", "content": None}, {"role": "user"}])
def test_a_user_message_needs_content(message):
    assert refused(messages=[message]) == ("messages[0].content", "Give the message's content.")


def test_an_unknown_role_is_refused_naming_it():
    param, message = refused(messages=[{"role": "function", "content": "x"}])
    assert param == "messages[0].role"
    assert "function" in message


def test_a_message_that_is_not_an_object_is_refused_naming_its_index():
    param, _message = refused(messages=[USER, "Hello"])
    assert param == "messages[1]"


def test_messages_must_be_a_non_empty_list_of_at_most_the_limit():
    assert refused(messages=[])[0] == "messages"
    assert refused(messages="Hello") == ("messages", "Must be a list.")
    assert refused(messages=[USER] * (MAX_MESSAGES + 1))[0] == "messages"
    assert accepted(messages=[USER] * MAX_MESSAGES)["turns"][-1] == USER


@pytest.mark.parametrize(
    "messages",
    [
        [USER, {"role": "assistant", "content": "Hi"}],
        [{"role": "system", "content": "Be brief."}],
        [{"role": "user", "content": ""}],
        [{"role": "user", "content": []}],
        [USER, {"role": "user", "content": ""}, {"role": "assistant", "content": "Hi"}],
    ],
)
def test_the_last_message_with_content_must_be_the_users(messages):
    assert refused(messages=messages) == (
        "messages",
        "The last message with content must be the user's (or a tool's result).",
    )


def test_an_empty_user_message_after_the_last_question_is_skipped():
    v = accepted(messages=[USER, {"role": "user", "content": ""}])
    assert v["turns"] == [{"role": "user", "content": "Hello"}]


@pytest.mark.parametrize(
    "content", ["Hel\x00lo", [{"type": "text", "text": "ok"}, {"type": "text", "text": "\x00"}]], ids=["text", "part"]
)
def test_a_nul_character_in_content_is_refused(content):
    # PostgreSQL cannot store it: refused, never a 500.
    assert refused(messages=[{"role": "user", "content": content}]) == (
        "messages[0].content",
        "Null characters are not allowed.",
    )


def test_a_nul_character_in_a_system_message_is_refused_too():
    messages = [{"role": "system", "content": "Be\x00brief"}, USER]
    assert refused(messages=messages)[0] == "messages[0].content"


def test_a_nul_character_in_the_model_or_a_name_is_refused():
    assert refused(model="fa\x00st") == ("model", "Null characters are not allowed.")
    assert refused(messages=[{**USER, "name": "al\x00ice"}])[0] == "messages[0].name"


def test_content_over_the_message_limit_is_refused_naming_the_limit(settings):
    settings.CHAT = {**settings.CHAT, "MAX_MESSAGE_CHARS": 10}
    assert accepted(messages=[{"role": "user", "content": "x" * 10}])
    param, message = refused(messages=[USER, {"role": "assistant", "content": "y" * 11}, USER])
    assert param == "messages[1].content"
    assert message == "A message has at most 10 characters."
    # Parts count as joined.
    parts = [{"type": "text", "text": "x" * 5}, {"type": "text", "text": "y" * 5}]
    assert refused(messages=[{"role": "user", "content": parts}])[0] == "messages[0].content"


def test_system_and_developer_messages_together_are_held_to_the_system_prompts_limit():
    half = "x" * (SYSTEM_PROMPT_MAX_CHARS // 2)
    fits = [{"role": "system", "content": half[:-1]}, {"role": "developer", "content": half[:-1]}, USER]
    assert len(accepted(messages=fits)["system"]) == SYSTEM_PROMPT_MAX_CHARS
    over = [{"role": "system", "content": half}, {"role": "developer", "content": half}, USER]
    param, message = refused(messages=over)
    assert param == "messages"
    assert str(SYSTEM_PROMPT_MAX_CHARS) in message


def test_a_name_is_accepted_up_to_64_characters_and_passed_on():
    v = accepted(messages=[{**USER, "name": "a" * 64}])
    assert v["turns"] == [{"role": "user", "content": "Hello", "name": "a" * 64}]
    assert refused(messages=[{**USER, "name": "a" * 65}])[0] == "messages[0].name"


def test_nulls_in_a_message_are_absent_and_unknown_keys_refused_by_name():
    v = accepted(messages=[{**USER, "tool_calls": None, "tool_call_id": None, "refusal": None, "audio": None}])
    assert v["turns"] == [{"role": "user", "content": "Hello"}]
    assert refused(messages=[{**USER, "weight": 1}]) == (
        "messages[0].weight",
        "Unrecognized request argument supplied: weight",
    )
    assert refused(messages=[USER, {"role": "assistant", "content": "x", "function_call": {"name": "f"}}])[0] == (
        "messages[1].function_call"
    )
    assert refused(stream=True, stream_options={"include_usage": True, "colour": "red"})[0] == "stream_options.colour"
    assert accepted(stream=True, stream_options={"include_usage": True, "include_obfuscation": False})


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"tools": [{"type": "function", "function": {"name": "f", "description": "a\x00b"}}]}, "tools"),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": {"title": "\x00"}}}},
            "response_format",
        ),
        (
            {
                "messages": [
                    USER,
                    {
                        "role": "assistant",
                        "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "\x00"}}],
                    },
                ]
            },
            "messages[1].tool_calls",
        ),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": {"$schema": 5}}}},
            "response_format.json_schema.schema",
        ),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "p", "schema": {"$ref": "#/$defs/nope"}},
                }
            },
            "response_format.json_schema.schema",
        ),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "p", "schema": {"$ref": "https://example.com/s.json"}},
                }
            },
            "response_format.json_schema.schema",
        ),
        ({"logit_bias": {"\u00b2": 1}}, "logit_bias"),
    ],
)
def test_what_would_break_the_store_or_the_check_is_a_400_naming_it(body, param):
    assert refused(**body)[0] == param


# --- parameters -----------------------------------------------------------------------------


def test_n_of_one_is_accepted_and_more_refused():
    assert accepted(n=1)
    assert accepted(n=None)
    param, message = refused(n=2)
    assert param == "n"
    assert "1" in message
    assert refused(n=0)[0] == "n"


TOOL = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}


def test_tools_and_the_choice_among_them_are_forwarded():
    v = accepted(
        tools=[TOOL], tool_choice={"type": "function", "function": {"name": "weather"}}, parallel_tool_calls=False
    )
    assert v["upstream"]["tools"] == [TOOL]
    assert v["upstream"]["tool_choice"] == {"type": "function", "function": {"name": "weather"}}
    assert v["needs"] == {"tools": "tools"}
    # false is a choice too: forwarded as given would need it kept
    assert accepted(tools=[TOOL], tool_choice="required")["upstream"]["tool_choice"] == "required"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"tools": [{"type": "function", "function": {"name": "a b"}}]}, "tools[0].function.name"),
        ({"tools": [{"type": "code_interpreter"}]}, "tools[0]"),
        ({"tools": [TOOL, TOOL]}, "tools[1].function.name"),
        ({"tools": "weather"}, "tools"),
        ({"tool_choice": "auto"}, "tool_choice"),
        ({"tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "other"}}}, "tool_choice"),
        ({"tools": [TOOL], "tool_choice": "sometimes"}, "tool_choice"),
        ({"parallel_tool_calls": True}, "parallel_tool_calls"),
    ],
)
def test_malformed_tools_are_refused_naming_the_parameter(body, param):
    assert refused(**body)[0] == param


@pytest.mark.parametrize("name", ["functions", "function_call", "audio", "prediction", "reasoning_effort"])
def test_parameters_this_server_cannot_honour_are_refused_naming_them(name):
    param, message = refused(**{name: {"x": 1}})
    assert param == name and message


def test_a_parameter_openai_does_not_define_is_refused_in_openais_words():
    assert refused(top_k=40) == ("top_k", "Unrecognized request argument supplied: top_k")


def test_an_empty_tools_list_is_no_tool():
    v = accepted(tools=[], tool_choice="none")
    assert "tools" not in v["upstream"] and "tool_choice" not in v["upstream"]
    assert v["needs"] == {}


def test_max_completion_tokens_wins_over_max_tokens():
    assert accepted(max_tokens=50)["max_tokens"] == 50
    assert accepted(max_completion_tokens=70)["max_tokens"] == 70
    assert accepted(max_tokens=50, max_completion_tokens=70)["max_tokens"] == 70
    assert accepted(max_tokens=50, max_completion_tokens=None)["max_tokens"] == 50


@pytest.mark.parametrize("name", ["max_tokens", "max_completion_tokens"])
@pytest.mark.parametrize("value", [0, -1, 2**31, "100", 1.5, True])
def test_token_limits_are_positive_integers(name, value):
    assert refused(**{name: value})[0] == name


def test_temperature_is_a_number_from_0_to_2():
    assert accepted(temperature=0)["temperature"] == 0
    assert accepted(temperature=2)["temperature"] == 2
    for value in (-0.1, 2.1, "1", True):
        assert refused(temperature=value)[0] == "temperature"


@pytest.mark.parametrize(
    ("stop", "sequences"),
    [("END", ["END"]), (["END", "\n\n"], ["END", "\n\n"]), (None, []), (["a"] * MAX_STOP_SEQUENCES, ["a"] * 4)],
)
def test_stop_is_a_string_or_a_list_of_them(stop, sequences):
    assert accepted(stop=stop)["stop"] == sequences


def test_no_stop_leaves_it_out():
    assert "stop" not in accepted()


@pytest.mark.parametrize("stop", ["", [""], ["a", 1], 5, {"a": "b"}, [["a"]]])
def test_stop_of_another_shape_is_refused(stop):
    assert refused(stop=stop) == ("stop", "A string or a list of non-empty strings.")


def test_more_stop_sequences_than_the_limit_are_refused():
    assert refused(stop=["a"] * (MAX_STOP_SEQUENCES + 1)) == ("stop", "At most 4 stop sequences.")


@pytest.mark.parametrize("stop", ["END\x00", ["ok", "\x00"]])
def test_a_nul_character_in_a_stop_sequence_is_refused(stop):
    # The options are saved with the reply (a JSON column): PostgreSQL cannot store \u0000 in
    # jsonb, so this was a 500 there.
    assert refused(stop=stop) == ("stop", "Null characters are not allowed.")


def test_stream_options_include_usage_when_streaming():
    v = accepted(stream=True, stream_options={"include_usage": True})
    assert v["stream"] is True
    assert v["include_usage"] is True
    assert accepted(stream=True, stream_options={})["include_usage"] is False
    assert accepted(stream=True, stream_options=None)["include_usage"] is False


def test_stream_options_without_streaming_are_refused():
    assert refused(stream_options={"include_usage": True}) == ("stream_options", "Only allowed when stream is true.")
    assert refused(stream=False, stream_options={})[0] == "stream_options"
    assert accepted(stream=False, stream_options=None)["include_usage"] is False


def test_a_stream_options_field_of_the_wrong_type_is_named_by_its_path():
    assert refused(stream=True, stream_options={"include_usage": "yes"}) == (
        "stream_options.include_usage",
        "Must be true or false.",
    )


def test_stream_null_is_false_and_other_types_are_refused():
    assert accepted(stream=None)["stream"] is False
    assert refused(stream="true") == ("stream", "Must be true or false.")


def test_sampling_parameters_are_forwarded_and_metadata_has_no_effect():
    v = accepted(
        top_p=0.5,
        presence_penalty=1,
        frequency_penalty=-0.5,
        seed=7,
        logit_bias={"42": -100},
        user="u-1",
        metadata={"run": "a"},
        store=False,
        logprobs=False,
        response_format={"type": "text"},
    )
    assert v["upstream"] == {
        "top_p": 0.5,
        "presence_penalty": 1,
        "frequency_penalty": -0.5,
        "seed": 7,
        "logit_bias": {"42": -100},
    }
    assert v["needs"] == {}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("frequency_penalty", 5),
        ("presence_penalty", -2.5),
        ("top_p", 1.5),
        ("top_logprobs", 21),
        ("logit_bias", {"42": 101}),
        ("logit_bias", {"token": 1}),
        ("store", True),
        ("service_tier", "fastest"),
    ],
)
def test_values_outside_openais_ranges_are_refused_naming_the_parameter(name, value):
    assert refused(**{name: value})[0] == name


def test_top_logprobs_needs_logprobs():
    assert refused(top_logprobs=3)[0] == "top_logprobs"
    v = accepted(logprobs=True, top_logprobs=3)
    assert v["upstream"] == {"logprobs": True, "top_logprobs": 3}
    assert v["needs"] == {"logprobs": "logprobs"}


SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def test_response_format_json_schema_is_forwarded_with_its_strictness():
    fmt = {"type": "json_schema", "json_schema": {"name": "place", "schema": SCHEMA, "strict": True}}
    v = accepted(response_format=fmt)
    assert v["upstream"]["response_format"] == fmt
    assert v["needs"] == {"structured_output": "response_format"}
    assert accepted(response_format={"type": "json_object"})["upstream"]["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize(
    ("fmt", "param"),
    [
        ({"type": "xml"}, "response_format"),
        ({"type": "json_schema"}, "response_format.json_schema"),
        ({"type": "json_schema", "json_schema": {"name": "a b", "schema": SCHEMA}}, "response_format.json_schema.name"),
        (
            {"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": 7}}},
            "response_format.json_schema.schema",
        ),
        (
            {"type": "json_schema", "json_schema": {"name": "p", "schema": SCHEMA, "strict": "yes"}},
            "response_format.json_schema.strict",
        ),
    ],
)
def test_a_malformed_response_format_is_refused_naming_where(fmt, param):
    assert refused(response_format=fmt)[0] == param


def test_the_model_is_required_and_a_string():
    data = ChatCompletionRequestSerializer(data={"messages": [USER]})
    assert not data.is_valid()
    assert first_field_error(data.errors)[0] == "model"
    assert refused(model=7) == ("model", "Must be a string.")
