"""What the portability services refuse, each with its own status and code (core.exceptions
answers them as ``{detail, code}``)."""

from core.exceptions import Conflict, DomainError


class ImportTooLarge(DomainError):
    status_code = 413
    code = "import_too_large"


class TooManyImports(Conflict):
    code = "too_many_imports"


class ExportNotReady(Conflict):
    code = "export_not_ready"


class ExportExpired(DomainError):
    status_code = 410
    code = "export_expired"
