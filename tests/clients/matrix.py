"""Which real OpenAI clients work against a live ``/v1``, and how: a script, not a test (pytest does
not collect it: no ``test_`` prefix, see pyproject's ``python_files``).

Run it from a virtualenv of its own that has the clients installed (they are not the project's
dependencies), against a running server with an API key::

    python3.11 -m venv /tmp/clientvenv
    /tmp/clientvenv/bin/pip install litellm llm pydantic-ai instructor openai httpx
    (cd /tmp/clientjs && npm install openai)        # optional: the JavaScript SDK
    /tmp/clientvenv/bin/python tests/clients/matrix.py --base http://127.0.0.1:8000 --key sk-... \\
        --js-modules /tmp/clientjs/node_modules

The server needs three models (``--local``, ``--tools``, ``--plain`` name them):

- the embedded model (``smollm2-135m``, capability ``structured_output``);
- a model that calls tools: the fake upstream of ``tests/conversations/upstream.py`` (run it as a
  script: it prints its base URL), added with ``manage.py model_add tools --base-url URL
  --upstream-model tools --capabilities tools,structured_output``; it calls the first tool it is
  given with ``{"<first required parameter>": "<last user message>"}``, then answers
  ``From the tools: <results>``;
- a model with no capabilities (``--plain``, e.g. the same upstream's ``prose``) for the refusals.

Each check prints one row: client, check, ok/FAIL/n/a/weak, and what the client showed. Exit
status 1 if a check that should pass failed (an expected refusal that is refused counts as a pass;
"weak" is a schema given only in the prompt that the small model did not follow).
"""

import argparse
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

PASS, FAIL, NA, WEAK = "ok", "FAIL", "n/a", "weak"
ROWS: list[tuple[str, str, str, str]] = []


class Args:
    base: str
    key: str
    local: str
    tools: str
    plain: str
    js_modules: str | None


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return ""


def short(text, limit: int = 150) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check(client: str, name: str):
    """Run the decorated function now; it returns a note (pass), or raises (fail); ``Skip`` is n/a."""

    def run(fn):
        started = time.monotonic()
        try:
            note = fn()
            status = PASS
        except Skip as exc:
            status, note = NA, str(exc)
        except ModelTooWeak as exc:
            status, note = WEAK, str(exc)
        except Exception as exc:  # noqa: BLE001 (what the client shows is the point)
            status, note = FAIL, f"{type(exc).__name__}: {exc}"
            if os.environ.get("MATRIX_TRACE"):
                traceback.print_exc()
        ROWS.append((client, name, status, short(f"{note} ({time.monotonic() - started:.1f} s)")))
        print(f"{status:4} {client:14} {name:34} {short(note, 110)}", flush=True)
        return fn

    return run


class Skip(Exception):
    pass


class ModelTooWeak(Exception):
    """The server did its part; the model did not follow a schema it was only told about in the
    prompt (the 135M embedded model rarely does). Not counted as a failure."""


def prompted(fn):
    """``fn()``, with a client's give-up after its retries reported as the model's weakness."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001
        raise ModelTooWeak(f"the model did not follow the prompted schema: {type(exc).__name__}: {exc}") from exc


def expect_refusal(exc: BaseException, param: str) -> str:
    """The note for a refusal the client surfaced; raises unless it names ``param`` with a 400."""
    text = str(exc)
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    if param not in text:
        raise AssertionError(f"refusal does not name {param!r}: {type(exc).__name__}: {text}")
    return f"refused as expected: {type(exc).__name__} (HTTP {status}): {text}"


WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Today's weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
PERSON_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


# --- the openai SDK (Python): the reference ------------------------------------------------------


def openai_python(a: Args) -> None:
    import openai
    from pydantic import BaseModel

    client = openai.OpenAI(base_url=f"{a.base}/v1", api_key=a.key, max_retries=0, timeout=120)
    c = "openai-python"

    @check(c, "models.list")
    def _():
        ids = [m.id for m in client.models.list()]
        assert a.local in ids, ids
        return ", ".join(ids)

    @check(c, "chat")
    def _():
        r = client.chat.completions.create(
            model=a.local, messages=[{"role": "user", "content": "Say hi"}], max_tokens=20
        )
        return f"{r.choices[0].message.content!r} usage={r.usage.prompt_tokens}+{r.usage.completion_tokens}"

    @check(c, "stream + include_usage")
    def _():
        parts, usage = [], None
        for chunk in client.chat.completions.create(
            model=a.local,
            messages=[{"role": "user", "content": "Say hi"}],
            max_tokens=20,
            stream=True,
            stream_options={"include_usage": True},
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
            if chunk.usage:
                usage = chunk.usage
        assert parts and usage, (parts, usage)
        return f"{len(parts)} chunks, usage {usage.prompt_tokens}+{usage.completion_tokens}"

    class Person(BaseModel):
        name: str
        age: int

    @check(c, ".parse (json_schema, local)")
    def _():
        r = client.chat.completions.parse(
            model=a.local,
            messages=[{"role": "user", "content": "Invent a person: a name and an age."}],
            response_format=Person,
            max_tokens=60,
        )
        assert isinstance(r.choices[0].message.parsed, Person)
        return repr(r.choices[0].message.parsed)

    @check(c, "tools round trip (fake)")
    def _():
        messages = [{"role": "user", "content": "Seoul"}]
        r = client.chat.completions.create(model=a.tools, messages=messages, tools=[WEATHER])
        call = r.choices[0].message.tool_calls[0]
        assert r.choices[0].finish_reason == "tool_calls"
        messages += [
            r.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "12 degrees"},
        ]
        r2 = client.chat.completions.create(model=a.tools, messages=messages, tools=[WEATHER])
        assert "12 degrees" in r2.choices[0].message.content, r2.choices[0].message.content
        return f"{call.function.name}({call.function.arguments}) -> {r2.choices[0].message.content!r}"

    @check(c, "refusal: tools on plain model")
    def _():
        try:
            client.chat.completions.create(model=a.plain, messages=[{"role": "user", "content": "x"}], tools=[WEATHER])
        except openai.BadRequestError as exc:
            return expect_refusal(exc, "tools")
        raise AssertionError("accepted")


# --- litellm ---------------------------------------------------------------------------------------


def litellm_checks(a: Args) -> None:
    import litellm
    from pydantic import BaseModel

    litellm.suppress_debug_info = True
    c = "litellm"
    common = {"api_base": f"{a.base}/v1", "api_key": a.key, "num_retries": 0}

    @check(c, "chat")
    def _():
        r = litellm.completion(
            model=f"openai/{a.local}", messages=[{"role": "user", "content": "Say hi"}], max_tokens=20, **common
        )
        return f"{r.choices[0].message.content!r} usage={r.usage.prompt_tokens}+{r.usage.completion_tokens}"

    @check(c, "stream")
    def _():
        parts = []
        for chunk in litellm.completion(
            model=f"openai/{a.local}",
            messages=[{"role": "user", "content": "Say hi"}],
            max_tokens=20,
            stream=True,
            stream_options={"include_usage": True},
            **common,
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
        assert parts
        return f"{len(parts)} chunks: {''.join(parts)!r}"

    class Person(BaseModel):
        name: str
        age: int

    @check(c, "response_format=pydantic (local)")
    def _():
        r = litellm.completion(
            model=f"openai/{a.local}",
            messages=[{"role": "user", "content": "Invent a person: a name and an age."}],
            response_format=Person,
            max_tokens=60,
            **common,
        )
        return repr(Person.model_validate_json(r.choices[0].message.content))

    @check(c, "json_object (local)")
    def _():
        r = litellm.completion(
            model=f"openai/{a.local}",
            messages=[{"role": "user", "content": "A JSON object with a key colour."}],
            response_format={"type": "json_object"},
            max_tokens=120,
            **common,
        )
        # A reply cut at max_tokens (finish_reason "length") is cut JSON, at OpenAI too.
        assert r.choices[0].finish_reason == "stop", r.choices[0].finish_reason
        return repr(json.loads(r.choices[0].message.content))

    @check(c, "tools round trip (fake)")
    def _():
        messages = [{"role": "user", "content": "Seoul"}]
        r = litellm.completion(model=f"openai/{a.tools}", messages=messages, tools=[WEATHER], **common)
        call = r.choices[0].message.tool_calls[0]
        messages += [
            r.choices[0].message.model_dump(),
            {"role": "tool", "tool_call_id": call.id, "content": "12 degrees"},
        ]
        r2 = litellm.completion(model=f"openai/{a.tools}", messages=messages, tools=[WEATHER], **common)
        assert "12 degrees" in r2.choices[0].message.content, r2.choices[0].message.content
        return f"{call.function.name}({call.function.arguments}) -> {r2.choices[0].message.content!r}"

    @check(c, "tools streamed (fake)")
    def _():
        chunks = list(
            litellm.completion(
                model=f"openai/{a.tools}",
                messages=[{"role": "user", "content": "Seoul"}],
                tools=[WEATHER],
                stream=True,
                **common,
            )
        )
        rebuilt = litellm.stream_chunk_builder(chunks)
        call = rebuilt.choices[0].message.tool_calls[0]
        assert rebuilt.choices[0].finish_reason == "tool_calls", rebuilt.choices[0].finish_reason
        return f"{call.function.name}({call.function.arguments})"

    @check(c, "refusal: tools on plain model")
    def _():
        try:
            litellm.completion(
                model=f"openai/{a.plain}", messages=[{"role": "user", "content": "x"}], tools=[WEATHER], **common
            )
        except Exception as exc:  # noqa: BLE001
            return expect_refusal(exc, "tools")
        raise AssertionError("accepted")

    @check(c, "refusal: reasoning_effort")
    def _():
        try:
            litellm.completion(
                model=f"openai/{a.local}",
                messages=[{"role": "user", "content": "x"}],
                reasoning_effort="low",
                max_tokens=5,
                **common,
            )
        except Exception as exc:  # noqa: BLE001
            return expect_refusal(exc, "reasoning_effort")
        raise AssertionError("accepted")


# --- llm (Simon Willison's CLI) -------------------------------------------------------------------


def llm_checks(a: Args) -> None:
    exe = shutil.which("llm") or os.path.join(os.path.dirname(sys.executable), "llm")
    c = "llm"
    if not os.path.exists(exe):

        @check(c, "installed")
        def _():
            raise Skip("llm is not installed in this environment")

        return
    home = tempfile.mkdtemp(prefix="llm-matrix-")
    models = [
        {"model_id": "srv-local", "model_name": a.local, "supports_schema": True},
        {"model_id": "srv-tools", "model_name": a.tools, "supports_schema": True, "supports_tools": True},
        {"model_id": "srv-plain", "model_name": a.plain, "supports_schema": True, "supports_tools": True},
    ]
    with open(os.path.join(home, "extra-openai-models.yaml"), "w") as f:
        for m in models:
            f.write(f"- model_id: {m['model_id']}\n  model_name: {m['model_name']}\n")
            f.write(f"  api_base: {a.base}/v1\n  api_key_name: matrix\n")
            for flag in ("supports_schema", "supports_tools"):
                if m.get(flag):
                    f.write(f"  {flag}: true\n")
    with open(os.path.join(home, "keys.json"), "w") as f:
        json.dump({"matrix": a.key}, f)
    env = {**os.environ, "LLM_USER_PATH": home}

    def llm(*args: str) -> str:
        done = subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=180)  # noqa: S603
        if done.returncode != 0:
            raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout.strip()

    @check(c, "chat (streams by default)")
    def _():
        return repr(llm("-m", "srv-local", "-o", "max_tokens", "20", "Say hi"))

    @check(c, "--no-stream")
    def _():
        return repr(llm("-m", "srv-local", "--no-stream", "-o", "max_tokens", "20", "Say hi"))

    @check(c, "--schema (local)")
    def _():
        out = llm("-m", "srv-local", "--schema", "name, age int", "-o", "max_tokens", "60", "Invent a person.")
        data = json.loads(out)
        assert {"name", "age"} <= set(data), data
        return repr(data)

    @check(c, "--functions tool round (fake)")
    def _():
        code = "def weather(city: str) -> str:\n    return 'Sunny in ' + city\n"
        out = llm("-m", "srv-tools", "--functions", code, "Seoul")
        assert "Sunny in Seoul" in out, out
        return repr(out)

    @check(c, "refusal: --schema on plain model")
    def _():
        try:
            llm("-m", "srv-plain", "--schema", "name, age int", "x")
        except RuntimeError as exc:
            return expect_refusal(exc, "response_format")
        raise AssertionError("accepted")


# --- pydantic-ai -------------------------------------------------------------------------------------


def pydantic_ai_checks(a: Args) -> None:
    from pydantic import BaseModel
    from pydantic_ai import Agent, NativeOutput, PromptedOutput
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider
    from pydantic_ai.settings import ModelSettings

    c = "pydantic-ai"
    provider = OpenAIProvider(base_url=f"{a.base}/v1", api_key=a.key)
    local = OpenAIChatModel(a.local, provider=provider)
    tools_model = OpenAIChatModel(a.tools, provider=provider)
    small = ModelSettings(max_tokens=60)

    class Person(BaseModel):
        name: str
        age: int

    @check(c, "chat")
    def _():
        return repr(Agent(local, model_settings=ModelSettings(max_tokens=20)).run_sync("Say hi").output)

    @check(c, "stream")
    def _():
        async def go():
            agent = Agent(local, model_settings=ModelSettings(max_tokens=20))
            async with agent.run_stream("Say hi") as run:
                return [t async for t in run.stream_text(delta=True)]

        import asyncio

        parts = asyncio.run(go())
        assert parts
        return f"{len(parts)} deltas: {''.join(parts)!r}"

    @check(c, "NativeOutput (json_schema, local)")
    def _():
        return repr(
            Agent(local, output_type=NativeOutput(Person), model_settings=small).run_sync("Invent a person.").output
        )

    @check(c, "PromptedOutput (local)")
    def _():
        agent = Agent(local, output_type=PromptedOutput(Person), model_settings=small)
        return repr(prompted(lambda: agent.run_sync("Invent a person.").output))

    @check(c, "default tool output (local)")
    def _():
        try:
            out = Agent(local, output_type=Person, model_settings=small).run_sync("Invent a person.").output
        except Exception as exc:  # noqa: BLE001
            return expect_refusal(exc, "tools") + " (the default output mode needs the tools capability)"
        return repr(out)

    @check(c, "tool round (fake)")
    def _():
        agent = Agent(tools_model)

        @agent.tool_plain
        def weather(city: str) -> str:
            """Today's weather in a city."""
            return f"Sunny in {city}"

        result = agent.run_sync("Seoul")
        assert "Sunny in Seoul" in result.output, result.output
        return repr(result.output)

    class City(BaseModel):
        city: str

    @check(c, "default tool output (fake)")
    def _():
        return repr(Agent(tools_model, output_type=City).run_sync("Seoul").output)

    @check(c, "refusal: NativeOutput on plain")
    def _():
        try:
            Agent(OpenAIChatModel(a.plain, provider=provider), output_type=NativeOutput(Person)).run_sync("x")
        except Exception as exc:  # noqa: BLE001
            return expect_refusal(exc, "response_format")
        raise AssertionError("accepted")


# --- instructor ------------------------------------------------------------------------------------


def instructor_checks(a: Args) -> None:
    import instructor
    import openai
    from pydantic import BaseModel

    c = "instructor"
    raw = openai.OpenAI(base_url=f"{a.base}/v1", api_key=a.key, max_retries=0, timeout=120)

    class Person(BaseModel):
        name: str
        age: int

    class City(BaseModel):
        city: str

    def person(mode, model):
        client = instructor.from_openai(raw, mode=mode)
        return client.chat.completions.create(
            model=model,
            response_model=Person,
            messages=[{"role": "user", "content": "Invent a person: a name and an age."}],
            max_tokens=80,
            max_retries=1,
        )

    @check(c, "default mode TOOLS (local)")
    def _():
        try:
            out = person(instructor.Mode.TOOLS, a.local)
        except Exception as exc:  # noqa: BLE001
            return expect_refusal(exc, "tools") + " (Mode.TOOLS needs the tools capability)"
        return repr(out)

    @check(c, "Mode.JSON (local)")
    def _():
        return repr(prompted(lambda: person(instructor.Mode.JSON, a.local)))

    @check(c, "Mode.JSON_SCHEMA (local)")
    def _():
        return repr(person(instructor.Mode.JSON_SCHEMA, a.local))

    @check(c, "Mode.TOOLS (fake)")
    def _():
        client = instructor.from_openai(raw)
        out = client.chat.completions.create(
            model=a.tools, response_model=City, messages=[{"role": "user", "content": "Seoul"}], max_retries=0
        )
        assert out.city == "Seoul", out
        return repr(out)

    @check(c, "refusal: JSON_SCHEMA on plain")
    def _():
        try:
            person(instructor.Mode.JSON_SCHEMA, a.plain)
        except Exception as exc:  # noqa: BLE001
            return expect_refusal(exc, "response_format")
        raise AssertionError("accepted")


# --- the openai SDK for JavaScript ------------------------------------------------------------------

JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openai_js.cjs")


def openai_js(a: Args) -> None:
    c = "openai-js"
    node = shutil.which("node")
    modules = a.js_modules
    if not node or not modules or not os.path.isdir(os.path.join(modules, "openai")):

        @check(c, "installed")
        def _():
            raise Skip("node or node_modules/openai not found (--js-modules)")

        return
    with open(os.path.join(modules, "openai", "package.json")) as f:
        js_version = json.load(f)["version"]
    env = {
        **os.environ,
        "MATRIX_OPENAI_JS": os.path.join(modules, "openai"),
        "MATRIX_ARGS": json.dumps(
            {
                "base": a.base,
                "key": a.key,
                "local": a.local,
                "tools": a.tools,
                "plain": a.plain,
                "weather": WEATHER,
                "person": PERSON_SCHEMA,
            }
        ),
    }
    done = subprocess.run([node, JS], env=env, capture_output=True, text=True, timeout=300)  # noqa: S603
    try:
        results = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):

        @check(f"{c} {js_version}", "run")
        def _():
            raise RuntimeError(done.stderr[-500:])

        return
    for name, result in results.items():

        @check(f"{c} {js_version}", name)
        def _(result=result):
            if not result["ok"]:
                raise RuntimeError(result["note"])
            return result["note"]


# --- Open WebUI's "OpenAI API" connection, replayed ------------------------------------------------


def open_webui(a: Args) -> None:
    """The requests Open WebUI (backend/open_webui/routers/openai.py, utils/middleware.py,
    routers/tasks.py) sends to an "OpenAI API" connection, replayed with httpx."""
    import httpx

    c = "open-webui"
    headers = {
        "Authorization": f"Bearer {a.key}",
        "Content-Type": "application/json",
        # Sent when ENABLE_FORWARD_USER_INFO_HEADERS is on.
        "X-OpenWebUI-User-Name": "Alice Example",
        "X-OpenWebUI-User-Id": "0b0c7b4e-0000-4000-8000-000000000000",
        "X-OpenWebUI-User-Email": "alice@example.com",
        "X-OpenWebUI-User-Role": "user",
        "X-OpenWebUI-Chat-Id": "5f1c2a9e-0000-4000-8000-000000000000",
    }
    http = httpx.Client(base_url=f"{a.base}/v1", headers=headers, timeout=120)

    def sse(body: dict) -> tuple[int, list]:
        with http.stream("POST", "/chat/completions", json=body) as r:
            if r.status_code != 200:
                r.read()
                raise RuntimeError(f"HTTP {r.status_code}: {r.text}")
            events = []
            for line in r.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    events.append(json.loads(line[6:]))
            return r.status_code, events

    @check(c, "GET /models (connection check)")
    def _():
        r = http.get("/models")
        r.raise_for_status()
        return f"{len(r.json()['data'])} models: " + ", ".join(m["id"] for m in r.json()["data"])

    @check(c, "chat stream + include_usage")
    def _():
        # The chat: system prompt from the model's settings, the history, stream_options when the
        # model's "usage" capability is ticked.
        body = {
            "model": a.local,
            "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "Say hi"},
            ],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        _status, events = sse(body)
        usage = [e["usage"] for e in events if e.get("usage")]
        text = "".join((e["choices"][0]["delta"].get("content") or "") for e in events if e.get("choices"))
        assert usage, "no usage chunk"
        return f"{text[:40]!r}… usage {usage[-1]}"

    @check(c, "content as parts (text)")
    def _():
        body = {
            "model": a.local,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Say hi"}]}],
            "stream": True,
        }
        _status, events = sse(body)
        return f"{len(events)} chunks"

    @check(c, "Advanced Params (OpenAI's)")
    def _():
        # Every non-null "Advanced Params" value is copied to the top level of the body.
        body = {
            "model": a.local,
            "messages": [{"role": "user", "content": "Say hi"}],
            "stream": True,
            "temperature": 0.8,
            "top_p": 0.9,
            "max_tokens": 64,
            "seed": 42,
            "stop": ["\n\n"],
            "frequency_penalty": 0.5,
            "presence_penalty": 0.2,
        }
        _status, events = sse(body)
        return f"{len(events)} chunks"

    @check(c, "Advanced Params (llama.cpp's)")
    def _():
        # top_k, min_p, repeat_penalty are in the same panel and sent to OpenAI connections too.
        r = http.post(
            "/chat/completions",
            json={"model": a.local, "messages": [{"role": "user", "content": "Say hi"}], "stream": True, "top_k": 40},
        )
        if r.status_code == 400:
            return f"refused (OpenAI's behaviour): {r.json()['error']['param']}: {r.json()['error']['message']}"
        return f"HTTP {r.status_code}"

    @check(c, "title generation task")
    def _():
        # routers/tasks.py: max_completion_tokens 1000, turned into max_tokens for a non-OpenAI URL.
        r = http.post(
            "/chat/completions",
            json={
                "model": a.local,
                "messages": [{"role": "user", "content": "### Task:\nGenerate a concise title...\nSay hi"}],
                "stream": False,
                "max_tokens": 1000,
            },
        )
        if r.status_code == 400 and r.json()["error"]["param"] == "max_tokens":
            # OpenAI's behaviour past a model's output limit; Open WebUI then keeps "New Chat".
            return "refused, title not made (set the model's Max Tokens in Open WebUI): " + r.json()["error"]["message"]
        if r.status_code != 200:
            raise RuntimeError(f"HTTP {r.status_code}: {r.text}")
        return repr(r.json()["choices"][0]["message"]["content"][:60])

    @check(c, "follow-ups/tags task (no limit)")
    def _():
        r = http.post(
            "/chat/completions",
            json={
                "model": a.local,
                "messages": [{"role": "user", "content": "### Task: tags\nSay hi"}],
                "stream": False,
            },
        )
        if r.status_code != 200:
            raise RuntimeError(f"HTTP {r.status_code}: {r.text}")
        return repr(r.json()["choices"][0]["message"]["content"][:60])

    @check(c, "native tools, streamed round")
    def _():
        tool = {"type": "function", "function": WEATHER["function"]}
        body = {
            "model": a.tools,
            "messages": [{"role": "user", "content": "Seoul"}],
            "stream": True,
            "stream_options": {"include_usage": True},
            "tools": [tool],
        }
        _status, events = sse(body)
        calls = {}
        for e in events:
            for ch in e.get("choices") or []:
                for tc in ch["delta"].get("tool_calls") or []:
                    slot = calls.setdefault(tc["index"], {"id": "", "name": "", "arguments": ""})
                    slot["id"] = tc.get("id") or slot["id"]
                    slot["name"] += (tc.get("function") or {}).get("name") or ""
                    slot["arguments"] += (tc.get("function") or {}).get("arguments") or ""
        assert calls, "no tool call"
        call = calls[0]
        # Open WebUI's next request: the assistant turn with its tool_calls (content ""), the tool result.
        body["messages"] += [
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["name"], "arguments": call["arguments"]},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call["id"], "content": "12 degrees"},
        ]
        _status, events = sse(body)
        text = "".join((e["choices"][0]["delta"].get("content") or "") for e in events if e.get("choices"))
        assert "12 degrees" in text, text
        return f"{call['name']}({call['arguments']}) -> {text!r}"


CLIENTS = {
    "openai-python": ("openai", openai_python),
    "litellm": ("litellm", litellm_checks),
    "llm": ("llm", llm_checks),
    "pydantic-ai": ("pydantic-ai", pydantic_ai_checks),
    "instructor": ("instructor", instructor_checks),
    "openai-js": (None, openai_js),
    "open-webui": (None, open_webui),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="The server's root URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--key", default=os.environ.get("MATRIX_API_KEY"), help="An API key (or MATRIX_API_KEY).")
    parser.add_argument("--local", default="smollm2-135m")
    parser.add_argument("--tools", default="tools")
    parser.add_argument("--plain", default="prose")
    parser.add_argument("--js-modules", default=None, help="A node_modules directory holding openai.")
    parser.add_argument("--only", nargs="*", choices=sorted(CLIENTS), help="Run only these clients.")
    a = parser.parse_args(namespace=Args())
    if not a.key:
        parser.error("--key or MATRIX_API_KEY is required")
    a.base = a.base.rstrip("/").removesuffix("/v1")
    for name, (dist, run) in CLIENTS.items():
        if a.only and name not in a.only:
            continue
        if dist and not version(dist):
            ROWS.append((name, "installed", NA, f"{dist} is not installed"))
            continue
        try:
            run(a)
        except Exception as exc:  # noqa: BLE001 (an import error, a client's API change)
            ROWS.append((name, "setup", FAIL, short(f"{type(exc).__name__}: {exc}")))
    print()
    print("| client | version | check | result | what the client showed |")
    print("| --- | --- | --- | --- | --- |")
    for client, name, status, note in ROWS:
        dist = CLIENTS.get(client, (None,))[0]
        print(f"| {client} | {version(dist) if dist else ''} | {name} | {status} | {note.replace('|', '/')} |")
    return 1 if any(status == FAIL for _c, _n, status, _note in ROWS) else 0


if __name__ == "__main__":
    sys.exit(main())
