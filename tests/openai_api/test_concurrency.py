"""Concurrency as OpenAI's clients expect it (issue 23, Deliver 6), through the real ``openai`` SDK
against a live server and the fake upstream: requests beyond the plan's concurrent replies wait
for a slot, then get a 429 the SDK retries; a client that leaves frees its slot at once; only the
day's quota is a final 429; a reply that failed before its first token costs no message."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from accounts import services as account_services
from accounts.models import Plan
from accounts.services import user_settings_get
from conversations.models import Conversation, LedgerEntry, Message, MessageStatus, Role
from openai_api import slots
from tests.conversations.factories import AssistantMessageFactory, ConversationFactory, LLMModelFactory
from tests.conversations.upstream import expected_text, upstream  # noqa: F401

pytestmark = pytest.mark.slow

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def key(user):
    _key, secret = account_services.api_key_create(user=user, name="agent")
    return secret


@pytest.fixture
def plan(user):
    """The user's plan, one reply at a time, no daily limit unless a test sets one."""
    plan = Plan.objects.get(pk=user_settings_get(user=user).plan_id)
    plan.max_concurrent_generations, plan.daily_message_limit = 1, 0
    plan.save()
    return plan


@pytest.fixture
def fake(upstream):  # noqa: F811
    def model(spec: str):
        slug = spec.replace(":", "-").replace(".", "_")
        return LLMModelFactory(slug=slug, upstream_model=spec, base_url=upstream.base_url)

    return model


def sdk(asgi_server, key, **options) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{asgi_server}/v1", api_key=key, **{"max_retries": 0, "timeout": 60, **options})


def in_flight(user) -> int:
    return Message.objects.in_flight().filter(conversation__owner=user).count()


def first_line(response: httpx.Response):
    """The stream's first line, and the iterator that goes on reading it: keep it (httpx closes
    the connection when an abandoned line iterator is collected, and the server would then see a
    client that left)."""
    lines = response.iter_lines()
    next(lines)
    return lines


def waiting_for_a_slot(user, timeout=2.0):
    """Until a request of ``user`` waits for a slot in the live server (this process), at most
    ``timeout`` seconds (a request refused at once never does)."""
    deadline = time.monotonic() + timeout
    while not slots._waiting.get(user.pk) and time.monotonic() < deadline:
        time.sleep(0.01)


def wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


# --- waiting for a slot ---------------------------------------------------------------------------


def test_three_concurrent_requests_on_a_plan_of_one_all_succeed(asgi_server, key, fake, plan, user):
    fake("slow:10")  # about half a second each

    async def three():
        # No SDK retries: the server's wait for a slot alone lets each request have its turn.
        async with openai.AsyncOpenAI(base_url=f"{asgi_server}/v1", api_key=key, max_retries=0) as client:
            asks = [client.chat.completions.create(model="slow-10", messages=HI) for _ in range(3)]
            return await asyncio.gather(*asks)

    completions = asyncio.run(three())

    assert [c.choices[0].message.content for c in completions] == [expected_text(10)] * 3
    assert LedgerEntry.objects.filter(user=user, status=MessageStatus.COMPLETE).count() == 3  # one each


def test_streams_wait_their_turn_too(asgi_server, key, fake, plan):
    fake("slow:6")

    async def two():
        async with openai.AsyncOpenAI(base_url=f"{asgi_server}/v1", api_key=key, max_retries=0) as client:

            async def streamed():
                stream = await client.chat.completions.create(model="slow-6", messages=HI, stream=True)
                return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

            return await asyncio.gather(streamed(), streamed())

    assert asyncio.run(two()) == [expected_text(6)] * 2


def test_past_the_wait_a_429_the_sdk_retries_and_no_row_is_made(asgi_server, key, fake, plan, user, settings):
    settings.CHAT = {**settings.CHAT, "API_SLOT_WAIT_SECONDS": 0.3}
    fake("slow:400")  # 20 s: longer than the wait and any retry
    headers = {"Authorization": f"Bearer {key}"}
    body = {"model": "slow-400", "messages": HI, "stream": True}
    with httpx.stream("POST", f"{asgi_server}/v1/chat/completions", json=body, headers=headers, timeout=30) as r:
        _lines = first_line(r)
        with sdk(asgi_server, key) as client, pytest.raises(openai.RateLimitError) as exc:
            started = time.monotonic()
            client.chat.completions.create(model="slow-400", messages=HI)
        waited = time.monotonic() - started
        assert Conversation.objects.filter(owner=user).count() == 1  # the refused request left nothing
        assert LedgerEntry.objects.filter(user=user).count() == 1

    assert 0.3 <= waited < 5
    error = exc.value
    assert (error.body["type"], error.body["code"]) == ("requests", "rate_limit_exceeded")
    assert "1 reply at a time" in error.body["message"]
    assert error.response.headers["Retry-After"] == "1"
    # What the SDKs read: retry it (only the daily quota says "false").
    assert error.response.headers["x-should-retry"] == "true"


def test_the_sdks_own_retries_carry_a_request_past_the_wait(asgi_server, key, fake, plan, settings):
    # A wait shorter than the reply ahead: the first try's 429 is retried by the SDK after
    # Retry-After (1 s), and the retry finds the slot free.
    settings.CHAT = {**settings.CHAT, "API_SLOT_WAIT_SECONDS": 0.2}
    fake("slow:20")  # 1 s

    async def two():
        async with openai.AsyncOpenAI(base_url=f"{asgi_server}/v1", api_key=key, max_retries=2) as client:
            first = asyncio.ensure_future(client.chat.completions.create(model="slow-20", messages=HI))
            await asyncio.sleep(0.3)
            second = await client.chat.completions.create(model="slow-20", messages=HI)
            return [await first, second]

    assert [c.choices[0].message.content for c in asyncio.run(two())] == [expected_text(20)] * 2


def test_a_slot_is_waited_for_across_the_app_and_the_api(asgi_server, key, fake, plan, user, user_client):
    fake("slow:10")
    sent = user_client.post("/api/v1/conversations", {"message": "from the app", "model": "slow-10"}, format="json")
    assert sent.status_code == 201
    with sdk(asgi_server, key) as client:
        completion = client.chat.completions.create(model="slow-10", messages=HI)
    assert completion.choices[0].message.content == expected_text(10)


def test_a_client_that_gives_up_waiting_leaves_no_reply(asgi_server, key, fake, plan, user):
    fake("slow:30")  # 1.5 s
    headers = {"Authorization": f"Bearer {key}"}
    body = {"model": "slow-30", "messages": HI, "stream": True}
    with httpx.stream("POST", f"{asgi_server}/v1/chat/completions", json=body, headers=headers, timeout=30) as r:
        lines = first_line(r)
        with sdk(asgi_server, key, timeout=0.5) as client, pytest.raises(openai.APITimeoutError):
            client.chat.completions.create(model="slow-30", messages=HI)  # waits, then goes away
        list(lines)
    time.sleep(1.0)  # what a request still waiting would have needed to start
    assert Conversation.objects.filter(owner=user).count() == 1
    assert LedgerEntry.objects.filter(user=user).count() == 1


# --- leaving frees the slot ------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [True, False])
def test_stop_then_send_the_next(asgi_server, key, fake, plan, user, stream):
    fake("slow:400")
    fake("normal:3")
    headers = {"Authorization": f"Bearer {key}"}
    body = {"model": "slow-400", "messages": HI, "stream": stream}

    def the_next():
        with sdk(asgi_server, key) as client:
            return client.chat.completions.create(model="normal-3", messages=HI)

    # The tightest "stop, then send": the next request has reached the server (and is waiting
    # for the slot) when the client leaves; it waits the moment the stop takes, then succeeds.
    with ThreadPoolExecutor(1) as pool:
        if stream:
            with httpx.stream("POST", f"{asgi_server}/v1/chat/completions", json=body, headers=headers) as r:
                lines = r.iter_lines()
                for _ in zip(range(4), lines, strict=False):
                    pass  # a few chunks
                following = pool.submit(the_next)
                waiting_for_a_slot(user)
                del lines  # then the client goes away
        else:
            following = pool.submit(lambda: (wait_until(lambda: in_flight(user) == 1), the_next())[1])
            with pytest.raises(httpx.ReadTimeout):  # a whole reply the client stops waiting for
                httpx.post(f"{asgi_server}/v1/chat/completions", json=body, headers=headers, timeout=1)
        completion = following.result(timeout=30)

    assert completion.choices[0].message.content == expected_text(3)
    first = Message.objects.get(conversation__owner=user, role=Role.ASSISTANT, model__slug="slow-400")
    assert first.status == MessageStatus.STOPPED and first.completion_tokens < 400


def test_a_client_that_leaves_frees_its_slot_within_moments(asgi_server, key, fake, plan, user):
    fake("slow:400")
    headers = {"Authorization": f"Bearer {key}"}
    body = {"model": "slow-400", "messages": HI, "stream": True}
    with httpx.stream("POST", f"{asgi_server}/v1/chat/completions", json=body, headers=headers, timeout=30) as r:
        lines = first_line(r)
        assert in_flight(user) == 1
        del lines
    left = time.monotonic()
    wait_until(lambda: in_flight(user) == 0, timeout=5)
    assert time.monotonic() - left < 1.0


@pytest.mark.django_db(transaction=True)  # a response's close ends the request's connection
def test_closing_a_streamed_replys_response_stops_the_reply_if_it_runs(user, monkeypatch):
    # When the client leaves while Django is sending a chunk, the stream's generator waits at its
    # ``yield`` and its ``finally`` (the stop) runs only when it is collected; Django closes the
    # response at once, and that close stops the reply (the cancelled-while-waiting case is the
    # generator's own ``finally``, tried live above).
    stops = []
    monkeypatch.setattr(slots.generation, "request_stop", lambda *, message_id: stops.append(message_id))

    async def nothing():
        yield b""

    reply = AssistantMessageFactory(conversation=ConversationFactory(owner=user), status=MessageStatus.STREAMING)
    slots.ReplyStreamingResponse(nothing(), reply_id=reply.pk).close()
    assert stops == [reply.pk]

    Message.objects.filter(pk=reply.pk).update(status=MessageStatus.COMPLETE)
    slots.ReplyStreamingResponse(nothing(), reply_id=reply.pk).close()  # ended: nothing to stop
    assert stops == [reply.pk]


# --- the daily quota: final, and failures are not charged per try ----------------------------------


def test_retried_failures_cost_no_message_and_only_the_quota_is_final(asgi_server, key, fake, plan, user):
    plan.daily_message_limit = 1
    plan.save()
    fake("http500")
    fake("normal:2")
    with sdk(asgi_server, key, max_retries=2) as client:
        with pytest.raises(openai.InternalServerError):  # 503: the SDK tried three times
            client.chat.completions.create(model="http500", messages=HI)
        assert LedgerEntry.objects.filter(user=user, status=MessageStatus.ERROR).count() == 3
        # The three failed tries said nothing: the day's one message is still there.
        assert client.chat.completions.create(model="normal-2", messages=HI).choices[0].message.content
        with pytest.raises(openai.RateLimitError) as exc:
            client.chat.completions.create(model="normal-2", messages=HI)
    assert exc.value.body["code"] == "daily_quota_exceeded"
    assert exc.value.body["type"] == "insufficient_quota"
    assert exc.value.response.headers["x-should-retry"] == "false"
    assert LedgerEntry.objects.filter(user=user).count() == 4  # the 429 made no entry


def test_a_client_timeout_before_the_first_token_is_not_charged_per_try(asgi_server, key, fake, plan, user):
    plan.daily_message_limit = 1
    plan.save()
    fake("timeout")  # the upstream sends headers, then nothing
    fake("normal:2")
    with sdk(asgi_server, key, timeout=0.5, max_retries=1) as client, pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="timeout", messages=HI)  # two tries, both given up
    wait_until(lambda: in_flight(user) == 0, timeout=5)
    stopped = LedgerEntry.objects.filter(user=user, status=MessageStatus.STOPPED)
    assert stopped.count() == 2 and not stopped.filter(latency_ms__isnull=False).exists()
    with sdk(asgi_server, key) as client:
        assert client.chat.completions.create(model="normal-2", messages=HI).choices[0].message.content


def test_a_reply_stopped_after_its_first_token_counts(asgi_server, key, fake, plan, user):
    plan.daily_message_limit = 1
    plan.save()
    fake("slow:400")
    headers = {"Authorization": f"Bearer {key}"}
    body = {"model": "slow-400", "messages": HI, "stream": True}
    with httpx.stream("POST", f"{asgi_server}/v1/chat/completions", json=body, headers=headers, timeout=30) as r:
        for line in r.iter_lines():
            if '"content": "t' in line or '"content":"t' in line:
                break  # text came: the reply gave something
    wait_until(lambda: in_flight(user) == 0, timeout=5)
    with sdk(asgi_server, key) as client, pytest.raises(openai.RateLimitError) as exc:
        client.chat.completions.create(model="slow-400", messages=HI)
    assert exc.value.body["code"] == "daily_quota_exceeded"


# --- LangChain -----------------------------------------------------------------------------------


def test_langchains_batch_of_four_on_a_plan_of_one(asgi_server, key, fake, plan):
    langchain_openai = pytest.importorskip("langchain_openai")
    fake("slow:10")
    llm = langchain_openai.ChatOpenAI(base_url=f"{asgi_server}/v1", api_key=key, model="slow-10", max_retries=0)
    answers = llm.batch(["one", "two", "three", "four"])
    assert [a.content for a in answers] == [expected_text(10)] * 4
