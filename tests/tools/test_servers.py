"""Registering tool servers (``manage.py tool_server_add``, the admin with its connection test),
what a user may enable (``GET /api/v1/tools``), and a chat's ``tools`` (``POST``/``PATCH``)."""

import io

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError

from conversations.models import Conversation
from tests.accounts.factories import UserFactory
from tests.tools.mcp_server import McpTestServer, free_port
from tools.models import ToolServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def mcp():
    server = McpTestServer().start()
    yield server
    server.stop()


def add(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("tool_server_add", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- the command ------------------------------------------------------------------------------


def test_one_command_registers_a_server_and_lists_its_tools(mcp, monkeypatch):
    monkeypatch.setenv("WEATHER_TOKEN", "Bearer x")
    out, err = add("weather", mcp.url, "--header", "Authorization: value-from-env:WEATHER_TOKEN")
    assert "Added tool server weather" in out and "Its tools: forecast, define." in out, (out, err)
    server = ToolServer.objects.get(name="weather")
    assert server.headers == [{"name": "Authorization", "env": "WEATHER_TOKEN"}]
    assert [tool["name"] for tool in server.tools] == ["forecast", "define"] and server.listed_at
    # Idempotent: again, the same row, updated.
    out, _ = add("weather", mcp.url, "--title", "Weather", "--private")
    assert "Updated tool server weather" in out
    server = ToolServer.objects.get()
    assert server.title == "Weather" and server.private and server.headers  # headers not given: kept
    assert LogEntry.objects.get_for_object(server).count() == 2  # audited


def test_a_secret_is_never_stored_only_its_variable(mcp, monkeypatch):
    monkeypatch.setenv("WEATHER_TOKEN", "Bearer very-secret-value")
    add("weather", mcp.url, "--header", "Authorization: value-from-env:WEATHER_TOKEN", "--no-check")
    row = ToolServer.objects.values().get()
    assert "very-secret-value" not in str(row)
    assert "very-secret-value" not in str(list(LogEntry.objects.values()))


@pytest.mark.parametrize(
    "args, message",
    [
        (("Bad Name", "http://127.0.0.1:9/mcp"), "name"),
        (("web_search", "http://127.0.0.1:9/mcp"), "web_search"),
        (("weather", "not a url"), "url"),
        (("weather", "http://127.0.0.1:9/mcp", "--header", "no colon"), "--header"),
        (
            ("weather", "http://127.0.0.1:9/mcp", "--header", "Authorization: value-from-env:DJANGO_SECRET_KEY"),
            "own settings",
        ),
        (("weather", "http://127.0.0.1:9/mcp", "--header", "Host: evil"), "Host"),
        (("weather", "http://127.0.0.1:9/mcp", "--timeout", "0"), "timeout"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(args, message):
    with pytest.raises(CommandError) as refused:
        add(*args)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert not ToolServer.objects.exists()


def test_a_server_that_is_down_is_registered_with_a_warning():
    out, err = add("later", f"http://127.0.0.1:{free_port()}/mcp", "--timeout", "2")
    assert "Added tool server later" in out and "could not list its tools" in err
    assert ToolServer.objects.get().tools == []


# --- the admin --------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


def test_the_admin_saves_headers_as_variables_and_tests_the_connection(admin_client, mcp, monkeypatch):
    monkeypatch.setenv("WEATHER_TOKEN", "Bearer x")
    response = admin_client.post(
        "/admin/tools/toolserver/add/",
        {
            "name": "weather",
            "title": "Weather",
            "description": "",
            "enabled": "on",
            "url": mcp.url,
            "headers_text": "Authorization: value-from-env:WEATHER_TOKEN\nX-Team: blue",
            "timeout_seconds": "5",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    server = ToolServer.objects.get()
    assert server.headers == [{"name": "Authorization", "env": "WEATHER_TOKEN"}, {"name": "X-Team", "value": "blue"}]
    page = admin_client.get(f"/admin/tools/toolserver/{server.pk}/change/").content.decode()
    assert "value-from-env:WEATHER_TOKEN" in page
    response = admin_client.get(f"/admin/tools/toolserver/{server.pk}/test-connection/", follow=True)
    assert "weather: OK; its tools: forecast, define" in response.content.decode()
    assert [tool["name"] for tool in ToolServer.objects.get().tools] == ["forecast", "define"]


def test_the_admin_refuses_a_forbidden_variable(admin_client):
    response = admin_client.post(
        "/admin/tools/toolserver/add/",
        {
            "name": "w",
            "url": "http://127.0.0.1:9/mcp",
            "headers_text": "X: value-from-env:DATABASE_URL",
            "timeout_seconds": "5",
        },
    )
    assert response.status_code == 200 and "own settings" in response.content.decode()
    assert not ToolServer.objects.exists()


def test_a_server_that_is_down_fails_its_test_with_the_reason(admin_client):
    server = ToolServer.objects.create(name="gone", url=f"http://127.0.0.1:{free_port()}/mcp", timeout_seconds=2)
    response = admin_client.get(f"/admin/tools/toolserver/{server.pk}/test-connection/", follow=True)
    assert "gone: failed:" in response.content.decode()


# --- what a user may enable -------------------------------------------------------------------


def test_get_tools_lists_what_the_plan_allows_and_web_search_when_set(user_client, user, settings):
    from accounts.models import Plan

    other_plan = Plan.objects.create(slug="gold", name="Gold", daily_message_limit=0)
    ToolServer.objects.create(
        name="weather", title="Weather", url="http://127.0.0.1:9/mcp", tools=[{"name": "forecast", "description": "d"}]
    )
    gold = ToolServer.objects.create(name="gold-only", url="http://127.0.0.1:9/mcp")
    gold.plans.set([other_plan])
    ToolServer.objects.create(name="off", url="http://127.0.0.1:9/mcp", enabled=False)
    listed = user_client.get("/api/v1/tools").json()
    assert listed == [
        {
            "name": "weather",
            "kind": "mcp",
            "title": "Weather",
            "description": "",
            "tools": [{"name": "forecast", "description": "d"}],
        }
    ]
    settings.TOOLS = {**settings.TOOLS, "WEB_SEARCH_URL": "http://127.0.0.1:9"}
    assert [entry["name"] for entry in user_client.get("/api/v1/tools").json()] == ["weather", "web_search"]


def test_get_tools_needs_a_signed_in_user(api_client):
    response = api_client.get("/api/v1/tools")
    assert response.status_code == 401 and response["Content-Type"].startswith("application/json")


def test_a_chat_enables_tools_on_create_and_with_patch(user_client, user):
    ToolServer.objects.create(name="weather", url="http://127.0.0.1:9/mcp")
    created = user_client.post("/api/v1/conversations", {"tools": ["weather"]}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["tools"] == ["weather"]
    pk = created.json()["id"]
    assert Conversation.objects.get(pk=pk).tools == ["weather"]
    patched = user_client.patch(f"/api/v1/conversations/{pk}", {"tools": []}, format="json")
    assert patched.status_code == 200 and patched.json()["tools"] == []
    # PUT without tools leaves them as they are.
    user_client.patch(f"/api/v1/conversations/{pk}", {"tools": ["weather", "weather"]}, format="json")
    put = user_client.put(
        f"/api/v1/conversations/{pk}",
        {"title": "t", "model": None, "system_prompt": "", "pinned": False, "archived": False},
        format="json",
    )
    assert put.status_code == 200 and put.json()["tools"] == ["weather"]


@pytest.mark.parametrize("tools", [["nope"], ["web_search"], "weather", [1], ["x" * 41], ["gold-only"]], ids=str)
def test_a_tool_the_user_may_not_enable_is_a_400_naming_tools(user_client, user, tools):
    from accounts.models import Plan

    gold = ToolServer.objects.create(name="gold-only", url="http://127.0.0.1:9/mcp")
    gold.plans.set([Plan.objects.create(slug="gold", name="Gold", daily_message_limit=0)])
    response = user_client.post("/api/v1/conversations", {"tools": tools}, format="json")
    assert response.status_code == 400, response.content
    assert "tools" in response.json()["errors"] if "errors" in response.json() else "tools" in str(response.json())
    assert not Conversation.objects.exists()


@pytest.mark.parametrize(
    "header, message",
    [
        ("Authorization: Bearer sk-123", "value-from-env"),
        ("X-Api-Key: 123", "value-from-env"),
        ("Authorization: value-from-env:", "Name the environment variable"),
    ],
)
def test_a_credential_is_only_ever_read_from_the_environment(header, message):
    with pytest.raises(CommandError) as refused:
        add("weather", "http://127.0.0.1:9/mcp", "--header", header, "--no-check")
    assert message in str(refused.value) and "sk-123" not in str(refused.value)
    assert not ToolServer.objects.exists()


def test_the_admin_refuses_a_header_named_twice(admin_client):
    response = admin_client.post(
        "/admin/tools/toolserver/add/",
        {"name": "w", "url": "http://127.0.0.1:9/mcp", "headers_text": "X-A: 1\nx-a: 2", "timeout_seconds": "5"},
    )
    assert response.status_code == 200 and "cannot be set here" in response.content.decode()
    assert not ToolServer.objects.exists()


def test_another_users_chat_is_a_404_whatever_its_tools(user_client, outsider):
    ToolServer.objects.create(name="weather", url="http://127.0.0.1:9/mcp")
    theirs = Conversation.objects.create(owner=outsider, tools=["weather"])
    response = user_client.patch(f"/api/v1/conversations/{theirs.pk}", {"tools": []}, format="json")
    assert response.status_code == 404
    assert Conversation.objects.get(pk=theirs.pk).tools == ["weather"]
    assert user_client.get(f"/api/v1/conversations/{theirs.pk}/messages").status_code == 404
