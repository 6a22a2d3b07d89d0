"""What a reply may call: the MCP servers staff register, and the record of every call made.

The built-in ``web_search`` is not a row: it exists when ``TOOLS["WEB_SEARCH_URL"]`` is set.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The built-in tool's name: no server may take it (a chat's ``tools`` names both kinds).
WEB_SEARCH = "web_search"
# A server's name starts each of its functions' names (``<server>__<tool>``, OpenAI allows
# [a-zA-Z0-9_-]{1,64}): lower-case letters, digits and single hyphens or underscores.
SERVER_NAME = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9]|[-_](?=[a-z0-9])){0,39}$",
    _("Use 1-40 lower-case letters, digits, and single hyphens or underscores between them."),
)


class ToolServer(models.Model):
    """An MCP server over streamable HTTP whose tools a chat may enable."""

    name = models.CharField(
        max_length=40,
        unique=True,
        validators=[SERVER_NAME],
        help_text=_("What users enable in a chat and what the model's function names start with."),
    )
    title = models.CharField(max_length=100, blank=True, help_text=_("Shown to users; the name when empty."))
    description = models.CharField(max_length=300, blank=True)
    url = models.URLField(max_length=500, help_text=_("The server's streamable HTTP endpoint, e.g. https://host/mcp."))
    # [{"name": "Authorization", "env": "MCP_TOKEN"} | {"name": "X-Team", "value": "blue"}]: a value
    # named by ``env`` is read from the environment at each connection, never stored here.
    headers = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    private = models.BooleanField(
        default=False,
        help_text=_("A shared conversation shows that this server's tools were called, never what they returned."),
    )
    timeout_seconds = models.FloatField(default=20.0, help_text=_("How long one call may take."))
    plans = models.ManyToManyField(
        "accounts.Plan",
        blank=True,
        related_name="+",
        help_text=_("The plans whose users may enable this server; none selected means every plan."),
    )
    # The server's tools as it last listed them (Test connection, or a reply that used it):
    # [{"name", "description", "input_schema"}]. ``GET /tools`` shows them without calling out.
    tools = models.JSONField(default=list, blank=True, editable=False)
    listed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("tool server")
        verbose_name_plural = _("tool servers")

    def __str__(self) -> str:
        return self.title or self.name

    def clean(self) -> None:
        from .headers import headers_problem

        if self.name == WEB_SEARCH:
            raise ValidationError({"name": _("%(name)s is the built-in web search's name.") % {"name": WEB_SEARCH}})
        problem = headers_problem(self.headers)
        if problem:
            raise ValidationError({"headers": problem})
        if not 0 < self.timeout_seconds <= 300:
            raise ValidationError({"timeout_seconds": _("Give between 0 and 300 seconds.")})


class CallStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    OK = "ok", _("Done")
    ERROR = "error", _("Failed")
    TIMEOUT = "timeout", _("Timed out")
    STOPPED = "stopped", _("Stopped")
    INTERRUPTED = "interrupted", _("Interrupted")
    REFUSED = "refused", _("Not run")


class ToolCall(models.Model):
    """One call a reply made: what the daily limit counts, and what the admin lists by plan. The
    arguments and the result live in the reply (``Message.tool_calls``), not here."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # The user's plan when the call was made (a later change of plan does not move it).
    plan = models.ForeignKey("accounts.Plan", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    server = models.CharField(max_length=40)  # a ToolServer's name, or "web_search"
    tool = models.CharField(max_length=128)
    message_id = models.UUIDField(db_index=True)
    call_id = models.CharField(max_length=100)
    status = models.CharField(max_length=12, choices=CallStatus.choices, default=CallStatus.RUNNING)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("user", "created_at"))]
        verbose_name = _("tool call")
        verbose_name_plural = _("tool calls")

    def __str__(self) -> str:
        return f"{self.server}.{self.tool}"
