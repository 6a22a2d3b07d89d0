"""The console's admins of the tools app: the MCP servers chats may enable (with their
connection test, which lists their tools) and the record of every call replies made."""

import asyncio

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import action as unfold_action

from tools.headers import header_parse, headers_problem, headers_shown
from tools.mcp_client import ServerDown, ServerSpec, tools_list
from tools.models import ToolCall, ToolServer
from tools.services import tool_server_listing_save


class ToolServerForm(forms.ModelForm):
    """Headers as lines of text, one ``Name: value`` or ``Name: value-from-env:VARIABLE`` each: a
    secret is named by its variable, and its value never reaches the database or this page."""

    headers_text = forms.CharField(
        label=gettext_lazy("Headers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            'One per line: "Name: value", or "Name: value-from-env:VARIABLE" for a secret, which is read '
            "from the server's environment at each call and never stored."
        ),
    )

    url = forms.URLField(
        label=gettext_lazy("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=ToolServer._meta.get_field("url").help_text,
    )

    class Meta:
        model = ToolServer
        fields = ("name", "title", "description", "enabled", "plans", "url", "timeout_seconds", "private")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["headers_text"].initial = "\n".join(headers_shown(self.instance.headers))

    def clean_headers_text(self):
        headers = []
        for line in self.cleaned_data["headers_text"].splitlines():
            if not line.strip():
                continue
            try:
                headers.append(header_parse(line))
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        problem = headers_problem(headers)  # the lines together (a name given twice)
        if problem:
            raise forms.ValidationError(problem)
        self.instance.headers = headers
        return self.cleaned_data["headers_text"]


@admin.register(ToolServer)
class ToolServerAdmin(ModelAdmin):
    form = ToolServerForm
    list_display = ("name", "title", "url", "enabled", "private", "tool_names", "listed_at")
    list_filter = ("enabled", "private")
    search_fields = ("name", "title", "url")
    filter_horizontal = ("plans",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ("tool_names", "listed_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "title", "description", "enabled", "plans")}),
        (gettext_lazy("Connection"), {"fields": ("url", "headers_text", "timeout_seconds")}),
        (gettext_lazy("Shares"), {"fields": ("private",)}),
        (gettext_lazy("Its tools"), {"fields": ("tool_names", "listed_at", "created_at", "updated_at")}),
    )
    actions = ("test_connection",)
    actions_detail = ("test_connection_detail",)

    @admin.display(description=gettext_lazy("Tools"))
    def tool_names(self, obj) -> str:
        return ", ".join(tool.get("name", "") for tool in obj.tools or []) or "—"

    def _test_one(self, request, server: ToolServer) -> None:
        spec = ServerSpec(server.name, server.url, tuple(server.headers or []), server.timeout_seconds, server.private)
        try:
            tools = asyncio.run(asyncio.wait_for(tools_list(spec), timeout=server.timeout_seconds))
        except (ServerDown, TimeoutError) as exc:
            self.message_user(
                request,
                _("%(name)s: failed: %(error)s") % {"name": server.name, "error": str(exc) or _("timed out")},
                messages.ERROR,
            )
            return
        tool_server_listing_save(server_name=server.name, tools=tools)
        names = ", ".join(tool["name"] for tool in tools) or _("none")
        self.message_user(
            request, _("%(name)s: OK; its tools: %(tools)s") % {"name": server.name, "tools": names}, messages.SUCCESS
        )

    @admin.action(description=gettext_lazy("Test the connection to the selected servers"))
    def test_connection(self, request, queryset):
        for server in queryset:
            self._test_one(request, server)

    @unfold_action(description=gettext_lazy("Test connection"), url_path="test-connection", icon="network_check")
    def test_connection_detail(self, request, object_id):
        """The button on a server's page: lists its tools, then back to the page."""
        server = ToolServer.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        if server is None:
            raise Http404(_("No such server."))
        self._test_one(request, server)
        return redirect(reverse("admin:tools_toolserver_change", args=[server.pk]))


@admin.register(ToolCall)
class ToolCallAdmin(ModelAdmin):
    """Read only: what replies called, by whom and on which plan (the plan's daily limit counts these)."""

    list_display = ("created_at", "user", "plan", "server", "tool", "status", "duration_ms")
    list_filter = ("status", "plan", "server")
    search_fields = ("user__email", "server", "tool", "message_id")
    date_hierarchy = "created_at"
    list_select_related = ("user", "plan")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
