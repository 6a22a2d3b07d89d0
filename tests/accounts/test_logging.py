"""No token, password or Authorization value reaches a log line; every line carries a request id."""

import io
import logging

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.module_loading import import_string
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


class _RecordingHandler(logging.StreamHandler):
    def __init__(self):
        super().__init__(io.StringIO())
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)
        super().emit(record)


def _configured_handler(name: str = "console") -> _RecordingHandler:
    """A handler with the filters and formatter that settings.LOGGING gives ``name``."""
    config = settings.LOGGING["handlers"][name]
    handler = _RecordingHandler()
    for filter_name in config["filters"]:
        filter_config = dict(settings.LOGGING["filters"][filter_name])
        handler.addFilter(import_string(filter_config.pop("()"))(**filter_config))
    handler.setFormatter(logging.Formatter(settings.LOGGING["formatters"][config["formatter"]]["format"]))
    handler.setLevel(logging.DEBUG)
    return handler


@pytest.fixture
def log_capture(caplog):
    """Every logger at DEBUG, written through the project's console handler set-up."""
    handler = _configured_handler()
    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled, list(logger.handlers)) for logger in loggers]
    caplog.set_level(logging.DEBUG)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        # The configured handlers would redact records in place before ours sees them; take
        # them off so that this handler's own filters are what the assertions test.
        for configured in [h for h in logger.handlers if h.filters]:
            logger.removeHandler(configured)
        if logger is logging.getLogger() or not logger.propagate:
            logger.addHandler(handler)
    yield handler
    for logger, level, disabled, handlers in saved:
        logger.setLevel(level)
        logger.disabled = disabled
        logger.removeHandler(handler)
        for original in handlers:
            if original not in logger.handlers:
                logger.addHandler(original)


def test_project_handlers_redact_and_tag_with_request_ids():
    for name, handler in settings.LOGGING["handlers"].items():
        assert {"request_id", "redact"} <= set(handler["filters"]), name
    assert "%(request_id)s" in settings.LOGGING["formatters"]["standard"]["format"]


def test_no_secret_reaches_a_log_line(log_capture, caplog, user, password, reuse_interval_over):
    client = APIClient()
    wrong_password = "Wrong-Guess-77"
    # Query logging on too (what DEBUG=True does): the refresh-token row is INSERTed with the token.
    with CaptureQueriesContext(connection):
        login = client.post(
            "/api/v1/auth/login",
            {"email": user.email, "password": password, "device_id": "phone"},
            HTTP_X_REQUEST_ID="login-req-1",
        )
        pair = login.json()
        rotated = client.post("/api/v1/auth/refresh", {"refresh": pair["refresh"]}).json()
        failed = client.post("/api/v1/auth/login", {"email": user.email, "password": wrong_password})
        replay = client.post("/api/v1/auth/refresh", {"refresh": pair["refresh"]})
        bad_request = client.post("/api/v1/auth/register", {"email": "x@example.com", "password": password[:3]})
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {rotated['access']}")
        denied = client.get("/api/v1/user")  # the family died on replay: 401 with the header sent
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}tampered")
        garbage = client.get("/api/v1/user")
    # A careless log call in the code must be caught by the filter as well.
    logging.getLogger("accounts.views").info(
        "login body %s headers %s query %s",
        {"email": user.email, "password": password, "refresh": pair["refresh"]},
        {"Authorization": f"Bearer {rotated['access']}"},
        f"?token={rotated['refresh']}&access={rotated['access']}",
    )

    assert (login.status_code, failed.status_code, replay.status_code) == (200, 401, 401)
    assert (bad_request.status_code, denied.status_code, garbage.status_code) == (400, 401, 401)
    output = log_capture.stream.getvalue()
    assert "Unauthorized: /api/v1/auth/login" in output  # django.request did log the failures
    assert "Bad Request: /api/v1/auth/register" in output
    assert "token_blacklist_outstandingtoken" in output  # and the SQL was logged
    assert "[REDACTED" in output
    secrets = [password, wrong_password, "Bearer ey"]
    for token in (pair["access"], pair["refresh"], rotated["access"], rotated["refresh"]):
        secrets += [token, token.split(".")[2]]  # the whole token, and its signature alone
    leaked = [secret for secret in secrets if secret in output]
    assert leaked == [], output


def test_request_id_is_on_the_response_and_on_log_records(log_capture, user, password):
    client = APIClient()

    chosen = client.post("/api/v1/auth/login", {"email": user.email, "password": "nope"}, HTTP_X_REQUEST_ID="abc-123")
    generated = client.get("/api/v1/user")
    hostile = client.get("/api/v1/user", HTTP_X_REQUEST_ID="evil\nid with spaces")

    assert chosen["X-Request-ID"] == "abc-123"
    assert len(generated["X-Request-ID"]) == 32
    assert hostile["X-Request-ID"] != "evil\nid with spaces"
    for response in (chosen, generated, hostile):
        rid = response["X-Request-ID"]
        tagged = [r for r in log_capture.records if r.name == "django.request" and r.request_id == rid]
        assert tagged, rid
        assert f"[{rid}] django.request" in log_capture.stream.getvalue()


def test_api_keys_are_redacted_wherever_they_appear():
    from core.logging import redact

    secret = "sk-" + "A1b2_C3d4-" * 4 + "xyz"
    for line in (
        f"GET /v1/models Authorization: Bearer {secret}",
        f"created key {secret} for someone",
        f'{{"id": 3, "key": "{secret}", "prefix": "sk-A1b2_C3"}}',
    ):
        cleaned = redact(line)
        assert secret not in cleaned and secret[3:20] not in cleaned, cleaned


def test_request_lines_are_redacted_keeping_the_shape_uvicorns_formatter_reads():
    from uvicorn.logging import AccessFormatter

    from core.logging import RedactSecretsFilter

    args = ("192.0.2.1:5000", "GET", "/reset-password/a b/SECRET?key=SECRET2&code=C0DE", "1.1", 404)
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None)

    assert RedactSecretsFilter().filter(record)

    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert line == '192.0.2.1:5000 - "GET /reset-password/[REDACTED] HTTP/1.1" 404 Not Found'


def test_oauth_codes_in_query_strings_are_redacted_but_error_codes_are_kept():
    from core.logging import redact

    line = redact('GET /accounts/github/login/callback/?code=abc123&state=xyz {"code": "too_many_failed_logins"}')
    assert "abc123" not in line and "xyz" not in line
    assert '"code": "too_many_failed_logins"' in line


def test_a_record_that_cannot_be_cleaned_at_interpreter_exit_is_dropped_not_written(monkeypatch):
    # At exit a library's finaliser logs ("Unclosed client session") after the import machinery is
    # gone, and the regex module raises ImportError: the filter drops the record, quietly.
    import core.logging

    def gone(text):
        raise ImportError("sys.meta_path is None, Python is likely shutting down")

    monkeypatch.setattr(core.logging, "redact", gone)
    record = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "Unclosed client session %s", ("x",), None)

    assert core.logging.RedactSecretsFilter().filter(record) is False
