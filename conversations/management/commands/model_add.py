from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from conversations.capabilities import KNOWN
from conversations.llm.limits import upstream_limits
from conversations.models import LLMModel
from conversations.services import model_add
from core.commands import OneLineCommand, one_line


class Command(OneLineCommand):
    help = (
        "Add an OpenAI-compatible model to the catalog, or update the one with this slug (only the options "
        "given change). The admin's checks apply: the URL, the API key variable, the capabilities."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--base-url", required=True, help="OpenAI-compatible base URL, e.g. https://host/v1.")
        parser.add_argument("--upstream-model", required=True, help="The model name sent upstream.")
        parser.add_argument("--api-key-env", default=None, help="Name of the environment variable holding the key.")
        parser.add_argument(
            "--capabilities", default=None, help=f"Comma-separated, from: {', '.join(KNOWN)} (empty: none)."
        )
        parser.add_argument(
            "--context-window",
            type=int,
            default=None,
            help="Tokens the model can attend to (a new model: read from the upstream when it says).",
        )
        parser.add_argument(
            "--max-output-tokens",
            type=int,
            default=None,
            help="Tokens of one reply at most (a new model: read from the upstream when it says).",
        )
        parser.add_argument("--display-name", default=None)

    def handle(self, *args, **options):
        capabilities = options["capabilities"]
        if capabilities is not None:
            capabilities = [name.strip() for name in capabilities.split(",") if name.strip()]
        for name in ("context_window", "max_output_tokens"):
            if options[name] is not None and options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be a positive number of tokens.")
        if not LLMModel.objects.filter(slug=options["slug"]).exists():
            self._limits_from_upstream(options, capabilities=capabilities or [])
        try:
            model, created = model_add(
                slug=options["slug"],
                base_url=options["base_url"],
                upstream_model=options["upstream_model"],
                api_key_env=options["api_key_env"],
                capabilities=capabilities,
                context_window=options["context_window"],
                max_output_tokens=options["max_output_tokens"],
                display_name=options["display_name"],
            )
        except ValidationError as exc:
            raise CommandError(one_line(exc)) from exc
        verb = "Added" if created else "Updated"
        caps = ", ".join(model.capabilities) or "none"
        where = f"{model.upstream_model} at {model.base_url}"
        limits = f"context window {model.context_window:,}, output limit {model.max_output_tokens:,} tokens"
        self.stdout.write(f"{verb} model {model.slug} ({where}; capabilities: {caps}; {limits}).")

    def _limits_from_upstream(self, options, *, capabilities: list[str]) -> None:
        """A new model's limits not given: what its upstream says (conversations/llm/limits.py), or
        a refusal naming the option to give (never the catalog's defaults, which fit no model)."""
        missing = [name for name in ("context_window", "max_output_tokens") if options[name] is None]
        if not missing:
            return
        probe = LLMModel(
            provider="openai",
            base_url=options["base_url"],
            upstream_model=options["upstream_model"],
            api_key_env=options["api_key_env"] or "",
            capabilities=capabilities,
        )
        try:  # the admin's checks first: no request to a URL or with a key variable they refuse
            probe.clean_fields(exclude=[f.name for f in LLMModel._meta.fields if f.name != "base_url"])
            probe.clean()
        except ValidationError as exc:
            raise CommandError(one_line(exc)) from exc
        try:
            limits = upstream_limits(probe)
        except Exception as exc:  # noqa: BLE001 - a refused key variable: the same one-line answer
            raise CommandError(f"Could not ask the upstream for the model's limits: {exc}") from exc
        said = {"context_window": limits.context_window, "max_output_tokens": limits.max_output_tokens}
        sources = {"context_window": limits.context_source, "max_output_tokens": limits.output_source}
        unsaid = [name for name in missing if said[name] is None]
        if unsaid:
            options_named = " and ".join(f"--{name.replace('_', '-')}" for name in unsaid)
            why = f"did not answer ({limits.problem})" if limits.problem else "does not say them"
            raise CommandError(f"The upstream {why}: give {options_named}.")
        for name in missing:
            options[name] = said[name]
            self.stdout.write(f"{name.replace('_', ' ').capitalize()}: {said[name]:,} tokens ({sources[name]}).")
