"""The admin console in a real browser: Debian's chromium (Playwright, ``executable_path``; never
a downloaded browser) against a real server process on a database of its own, seeded with a row
of every model the admin shows.

A staff member signs in through the login form; the dashboard, every changelist and a change page
of each answer without a server error or a script error; the main actions work from a user's page
and land in the audit trail. On a failure, screenshots go to ``artifacts/admin-browser/`` (CI
keeps that directory; see .ci/run).
"""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse

from testsupport.servers import ServerProcess, manage, own_database, server_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
STAFF_EMAIL, STAFF_PASSWORD = "operator@example.com", "Operator-pass-42"
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "admin-browser"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK), reason="needs Debian's chromium (apt-get install -y chromium; .ci/run does)"
    ),
]

# One row of everything the admin lists, made the way the service makes them.
SEED = """
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth.models import Group
from django.utils import timezone
from accounts import services
from accounts.models import User
from collector import services as collector
from conversations.models import Conversation, Feedback, Message
from sharing import services as sharing
from todos.models import Todo

staff = User.objects.create_superuser(email={staff!r}, password={password!r})
services.user_settings_get(user=staff)
member = services.user_create(email="member@example.com", password="Member-pass-42", display_name="Member")
services.session_start(user=member, device_id="phone", device_name="Phone")
services.api_key_create(user=member, name="scripts")
conversation = Conversation.objects.create(owner=member, title="Trip plan")
Message.objects.create(conversation=conversation, role="user", content="Where to go?")
reply = Message.objects.create(conversation=conversation, role="assistant", content="Lisbon.", status="complete")
Feedback.objects.create(message=reply, user=member, rating="up", comment="nice")
sharing.share_create(user=member, conversation=conversation)
item = collector.item_create(user=member, kind="note", title="Packing", content="socks", tags=["travel"])
from django.core.files.uploadedfile import SimpleUploadedFile
from files.services import file_create
file_create(owner=member, upload=SimpleUploadedFile("page.html", b"<script>alert(1)</script><p>hello</p>"))
Todo.objects.create(owner=member, title="Book flights", todo_date=timezone.localdate())
Group.objects.create(name="Support")
EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
app = SocialApp.objects.create(provider="github", name="GitHub", client_id="id", secret="s3cret")
account = SocialAccount.objects.create(user=member, provider="github", uid="42")
SocialToken.objects.create(app=app, account=account, token="t")
AccessFailureLog.objects.create(username="member@example.com", ip_address="192.0.2.1", user_agent="x", path_info="/")
AccessAttempt.objects.create(username="x@example.com", ip_address="192.0.2.2", user_agent="x", failures_since_start=3,
                             get_data="", post_data="", http_accept="*/*", path_info="/")
"""


SEEDED = {
    "accounts.user",
    "accounts.device",
    "accounts.apikey",
    "accounts.plan",
    "conversations.conversation",
    "conversations.message",
    "conversations.feedback",
    "conversations.llmmodel",
    "conversations.prompt",
    "sharing.share",
    "collector.item",
    "collector.tag",
    "files.storedfile",
    "todos.todo",
    "auth.group",
    "sites.site",
    "account.emailaddress",
    "socialaccount.socialapp",
    "socialaccount.socialaccount",
    "socialaccount.socialtoken",
    "axes.accessfailurelog",
    "axes.accessattempt",
    "token_blacklist.outstandingtoken",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("admin-browser")
    with own_database(tmp_path, "adminbrowser") as database_url:
        env = server_env(database_url, tmp_path, DJANGO_MEDIA_ROOT=str(tmp_path / "media"))
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        manage(env, "shell", "-c", SEED.format(staff=STAFF_EMAIL, password=STAFF_PASSWORD))
        process = ServerProcess(env).start()
        try:
            yield process
        finally:
            process.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server, request):
    context = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    # What the page's Content-Security-Policy refused: chromium reports each on the console.
    page.csp_violations = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and page.csp_violations.append(message.text),
    )
    yield page
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def sign_in(page):
    page.goto("/admin/login/")
    page.get_by_label("Email address").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name=re.compile("Log in")).click()
    page.wait_for_url(lambda url: "/admin/login/" not in url)


def visit(page, path: str, problems: list[str]):
    response = page.goto(path)
    status = response.status if response else 0
    if status >= 500 or status == 0:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / (re.sub(r"\W+", "_", path).strip("_") + ".png"), full_page=True)
        problems.append(f"{path}: HTTP {status}")
    return status


def test_the_admin_and_the_api_docs_work_under_their_content_security_policy(page):
    # Issue 18, hole 10: /admin/ and /api/docs/ sent no CSP. Each page now has one, and nothing
    # it loads or runs is refused by it: the sign-in, the dashboard (its charts), a change page
    # (its tabs and inlines), an import page, Swagger UI (its start-up and "Try it out") and Redoc.
    policies = {}
    page.on("response", lambda r: r.request.resource_type == "document" and policies.update({r.url: r.headers}))
    sign_in(page)
    expect = _expect()
    expect(page.locator("#home-charts canvas").first).to_be_visible()
    page.goto("/admin/accounts/user/?q=member%40example.com")
    page.get_by_role("link", name="member@example.com").click()
    expect(page.get_by_text("At a glance")).to_be_visible()
    page.goto("/admin/usage/")
    expect(page.get_by_text("Usage").first).to_be_visible()
    page.goto("/admin/accounts/user/import/")
    expect(page.locator("input[type=file]")).to_be_attached()
    page.goto("/api/docs/")
    operation = page.locator("#operations-health-healthz_retrieve, .opblock").first
    expect(operation).to_be_visible()
    page.goto("/api/redoc/")
    expect(page.locator(".api-content, [role=search]").first).to_be_visible()
    # Redoc's menu always renders its vendor's logo from https://cdn.redoc.ly (hard-coded in its
    # bundle); the policy refuses it on purpose (no request leaves for a CDN). Whether chromium has
    # reported that refusal yet depends on timing: it is the one report expected, the others fail.
    expected = [text for text in page.csp_violations if "cdn.redoc.ly/redoc/logo-mini.svg" in text]
    assert [text for text in page.csp_violations if text not in expected] == []
    assert page.script_errors == []
    assert policies and all("content-security-policy" in headers for headers in policies.values()), list(policies)
    for url, headers in policies.items():
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, url
        assert "base-uri 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


def test_sign_in_and_the_dashboard(page):
    sign_in(page)

    assert page.url.endswith("/admin/")
    sidebar = page.get_by_role("navigation").first
    for group in ("People", "Chat", "Models", "Content", "Sign-in"):
        assert page.get_by_text(group, exact=True).first.is_visible(), group
    assert sidebar is not None
    assert page.title().startswith(("Site administration", "Dashboard", "Chat server"))
    assert page.script_errors == []
    assert page.csp_violations == []


def test_every_changelist_and_a_change_page_of_each_open_without_errors(page):
    sign_in(page)
    problems: list[str] = []
    opened = set()
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        if visit(page, changelist, problems) >= 400:
            problems.append(f"{changelist}: not viewable by a superuser")
            continue
        links = page.locator(f'a[href*="/admin/{opts.app_label}/{opts.model_name}/"][href$="/change/"]')
        if links.count():
            visit(page, links.first.get_attribute("href"), problems)
            opened.add(opts.label_lower)
        if model_admin.has_add_permission(_superuser_request()):
            visit(page, reverse(f"admin:{opts.app_label}_{opts.model_name}_add"), problems)
    assert problems == []
    assert page.script_errors == []
    assert page.csp_violations == []
    # Every model the seed gives a row had its change page opened: not a walk through empty lists.
    assert len(admin.site._registry) >= 25
    assert SEEDED - opened == set()


def _superuser_request():
    class _Request:
        class user:  # noqa: N801 (a stand-in for request.user)
            is_active = is_staff = is_superuser = True

            @staticmethod
            def has_perm(*args, **kwargs):
                return True

    return _Request()


def test_acting_on_a_user_from_their_page(page):
    sign_in(page)
    page.goto("/admin/accounts/user/?q=member%40example.com")
    page.get_by_role("link", name="member@example.com").click()
    expect = _expect()
    expect(page.get_by_text("At a glance")).to_be_visible()

    page.get_by_role("link", name="Grant plan").click()
    page.get_by_label("Plan").select_option("pro")
    page.get_by_role("button", name="Grant plan").click()
    expect(page.get_by_text("is now on the pro plan")).to_be_visible()

    page.get_by_role("link", name="Reset today's quota").click()
    page.get_by_role("button", name="Reset today's quota").click()
    expect(page.get_by_text("no longer count")).to_be_visible()

    page.get_by_role("link", name="Revoke all sessions").click()
    page.get_by_role("button", name="Revoke all sessions").click()
    expect(page.get_by_text("Signed member@example.com out of 1 device.")).to_be_visible()

    page.goto("/admin/auditlog/logentry/")
    expect(page.get_by_text("member@example.com").first).to_be_visible()
    expect(page.get_by_text(STAFF_EMAIL).first).to_be_visible()
    assert page.script_errors == []
    assert page.csp_violations == []


def test_acting_on_oneself_is_refused_in_the_page(page):
    sign_in(page)
    page.goto(f"/admin/accounts/user/?q={STAFF_EMAIL.replace('@', '%40')}")
    page.get_by_role("link", name=STAFF_EMAIL).first.click()
    page.get_by_role("link", name="Deactivate").click()
    expect = _expect()
    expect(page.get_by_text("your own account")).to_be_visible()
    expect(page.get_by_text("At a glance")).to_be_visible()


def _expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    return expect
