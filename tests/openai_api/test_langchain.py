"""LangChain's ``ChatOpenAI`` on its defaults, pointed at this server by its base URL and key alone:
``with_structured_output`` (a pydantic model, OpenAI's json_schema form) against the embedded
model, ``bind_tools`` and a tool round against a fake upstream that calls tools, ``batch``, and the
errors LangChain raises for what cannot be honoured."""

import openai
import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, Field

from accounts import services as account_services
from tests.conversations.factories import LLMModelFactory
from tests.conversations.upstream import TOOL_ANSWER, upstream  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture
def chat(asgi_server, user):
    _key, secret = account_services.api_key_create(user=user, name="langchain")

    def make(model: str, **options) -> ChatOpenAI:
        return ChatOpenAI(base_url=f"{asgi_server}/v1", api_key=secret, model=model, max_retries=0, **options)

    return make


@pytest.fixture
def fake(upstream):  # noqa: F811
    def model(spec: str, *capabilities: str) -> str:
        slug = spec.replace(":", "-")
        LLMModelFactory(slug=slug, upstream_model=spec, base_url=upstream.base_url, capabilities=list(capabilities))
        return slug

    return model


class City(BaseModel):
    """A city and its country."""

    name: str = Field(description="The city's name")
    country: str = Field(description="The country it is in")


@tool
def weather(city: str) -> str:
    """Today's weather in a city."""
    return f"12 degrees in {city}"


def test_with_structured_output_against_the_embedded_model(chat, local_model_row):
    structured = chat(local_model_row.slug, max_tokens=60).with_structured_output(City)
    city = structured.invoke("Name a city in Korea.")
    assert isinstance(city, City) and city.name and city.country


def test_bind_tools_and_a_round_with_the_tools_result(chat, fake, upstream):  # noqa: F811
    model = chat(fake("tools", "tools")).bind_tools([weather])
    question = HumanMessage("Seoul")
    asked = model.invoke([question])
    assert [(call["name"], call["args"]) for call in asked.tool_calls] == [("weather", {"city": "Seoul"})]
    result = weather.invoke(asked.tool_calls[0]["args"])
    answer = model.invoke([question, asked, ToolMessage(result, tool_call_id=asked.tool_calls[0]["id"])])
    assert answer.content == TOOL_ANSWER + "12 degrees in Seoul"
    sent = next(body for body in reversed(upstream.requests) if body["model"] == "tools")
    assert sent["messages"][-1] == {"role": "tool", "content": "12 degrees in Seoul", "tool_call_id": "call_0_weather"}
    assert sent["messages"][-2]["tool_calls"][0]["function"]["name"] == "weather"


def test_streamed_tool_calls_are_put_together_by_langchain(chat, fake):
    model = chat(fake("tools", "tools"), streaming=True).bind_tools([weather])
    chunks = list(model.stream("Busan"))
    whole = chunks[0]
    for chunk in chunks[1:]:
        whole += chunk
    assert [(call["name"], call["args"]) for call in whole.tool_calls] == [("weather", {"city": "Busan"})]


def test_a_batch_of_four(chat, fake):
    answers = chat(fake("normal:3")).batch(["one", "two", "three", "four"])
    assert [answer.content for answer in answers] == ["t0 t1 t2 "] * 4


def test_tools_on_a_model_without_them_is_a_bad_request_naming_tools(chat, fake):
    with pytest.raises(openai.BadRequestError) as exc:
        chat(fake("normal:3")).bind_tools([weather]).invoke("Seoul")
    assert exc.value.body["param"] == "tools"
