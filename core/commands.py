"""What the operator's one-line commands share (``model_add``, ``tool_server_add``): a script reads
one line when they refuse, never argparse's usage block or a form's nested errors."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand


def one_line(error: ValidationError) -> str:
    """A model's ``full_clean`` refusal as ``field: message; field: message``."""
    if hasattr(error, "error_dict"):
        return "; ".join(f"{field}: {' '.join(m for m in messages)}" for field, messages in error.message_dict.items())
    return " ".join(error.messages)


class OneLineCommand(BaseCommand):
    """A command whose bad arguments are one line on stderr (exit status 2), naming ``--help``."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def refuse(message):
            self.stderr.write(f"CommandError: {message} (see manage.py {subcommand} --help)")
            raise SystemExit(2)

        parser.error = refuse  # type: ignore[method-assign]
        return parser
