"""``manage.py tool_server_add NAME URL [--header "Name: value-from-env:VAR"]``: idempotent."""

import asyncio

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from core.commands import OneLineCommand, one_line

from ...headers import header_parse, headers_shown
from ...mcp_client import ServerDown, ServerSpec, tools_list
from ...services import tool_server_add, tool_server_listing_save


class Command(OneLineCommand):
    help = (
        "Register an MCP server (streamable HTTP) whose tools chats may enable, or update the one with this "
        "name. A header's secret is read from the environment: --header 'Authorization: value-from-env:VAR' "
        "stores the variable's name, never its value."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="What users enable (lower-case letters, digits, - and _).")
        parser.add_argument("url", help="The server's streamable HTTP endpoint, e.g. http://127.0.0.1:9000/mcp.")
        parser.add_argument(
            "--header",
            action="append",
            default=None,
            help='"Name: value" or "Name: value-from-env:VAR"; repeat for more. Given: replaces the headers.',
        )
        parser.add_argument("--title", default=None)
        parser.add_argument("--description", default=None)
        parser.add_argument("--timeout", type=float, default=None, help="Seconds one call may take (default 20).")
        privacy = parser.add_mutually_exclusive_group()
        privacy.add_argument(
            "--private", dest="private", action="store_true", default=None, help="Shares never show its results."
        )
        privacy.add_argument("--public", dest="private", action="store_false", help="Shares show its results.")
        parser.add_argument("--no-check", action="store_true", help="Do not list the server's tools now.")

    def handle(self, *args, **options):
        headers = None
        if options["header"] is not None:
            try:
                headers = [header_parse(text) for text in options["header"]]
            except ValueError as exc:
                raise CommandError(f"--header: {exc}") from None
        try:
            server, created = tool_server_add(
                name=options["name"],
                url=options["url"],
                headers=headers,
                title=options["title"],
                description=options["description"],
                private=options["private"],
                timeout_seconds=options["timeout"],
            )
        except ValidationError as exc:
            raise CommandError(one_line(exc)) from None
        verb = "Added" if created else "Updated"
        shown = "; ".join(headers_shown(server.headers)) or "no headers"
        self.stdout.write(f"{verb} tool server {server.name} at {server.url} ({shown}).")
        if options["no_check"]:
            return
        spec = ServerSpec(server.name, server.url, tuple(server.headers), server.timeout_seconds, server.private)
        try:
            tools = asyncio.run(asyncio.wait_for(tools_list(spec), timeout=server.timeout_seconds))
        except (ServerDown, TimeoutError) as exc:
            # Registered all the same: a server may come up after its row (a reply leaves it out until then).
            self.stderr.write(f"Warning: could not list its tools now: {exc or 'timed out'}")
            return
        tool_server_listing_save(server_name=server.name, tools=tools)
        names = ", ".join(tool["name"] for tool in tools) or "none"
        self.stdout.write(f"Its tools: {names}.")
