from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from conversations.capabilities import KNOWN
from conversations.services import model_add


def _one_line(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(f"{field}: {' '.join(m for m in messages)}" for field, messages in error.message_dict.items())
    return " ".join(error.messages)


class Command(BaseCommand):
    help = (
        "Add an OpenAI-compatible model to the catalog, or update the one with this slug (only the options "
        "given change). The admin's checks apply: the URL, the API key variable, the capabilities."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line(message):
            # argparse would print its whole usage block: an operator's script reads one line.
            self.stderr.write(f"CommandError: {message} (see manage.py model_add --help)")
            raise SystemExit(2)

        parser.error = one_line
        return parser

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--base-url", required=True, help="OpenAI-compatible base URL, e.g. https://host/v1.")
        parser.add_argument("--upstream-model", required=True, help="The model name sent upstream.")
        parser.add_argument("--api-key-env", default=None, help="Name of the environment variable holding the key.")
        parser.add_argument(
            "--capabilities", default=None, help=f"Comma-separated, from: {', '.join(KNOWN)} (empty: none)."
        )
        parser.add_argument("--context-window", type=int, default=None, help="Tokens the model can attend to.")
        parser.add_argument("--display-name", default=None)

    def handle(self, *args, **options):
        capabilities = options["capabilities"]
        if capabilities is not None:
            capabilities = [name.strip() for name in capabilities.split(",") if name.strip()]
        if options["context_window"] is not None and options["context_window"] < 1:
            raise CommandError("--context-window must be a positive number of tokens.")
        try:
            model, created = model_add(
                slug=options["slug"],
                base_url=options["base_url"],
                upstream_model=options["upstream_model"],
                api_key_env=options["api_key_env"],
                capabilities=capabilities,
                context_window=options["context_window"],
                display_name=options["display_name"],
            )
        except ValidationError as exc:
            raise CommandError(_one_line(exc)) from exc
        verb = "Added" if created else "Updated"
        caps = ", ".join(model.capabilities) or "none"
        where = f"{model.upstream_model} at {model.base_url}"
        self.stdout.write(f"{verb} model {model.slug} ({where}; capabilities: {caps}).")
