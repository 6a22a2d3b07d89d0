"""The API against its own OpenAPI document: schemathesis ``--checks all`` over every operation of
the live schema, as a signed-in user, against a real server process (uvicorn on a database of its
own, PostgreSQL + Redis when the suite runs on them). Any failure of any check fails the test,
with schemathesis' report (each failure comes with a curl command that reproduces it).

What JSON Schema cannot say (a password policy, a share's expiry in the past...) is listed, with
the operations it concerns, in ``schemathesis.toml``. Throttle and lockout limits are raised for
this server only: the run sends thousands of requests
from one address, and the throttles have tests of their own.
"""

import os
import re
import shutil
import subprocess
import sys

import httpx
import pytest

from tests.conversations.upstream import upstream  # noqa: F401
from testsupport.servers import ROOT, ServerProcess, manage, own_database, server_env

pytestmark = pytest.mark.slow

EMAIL = "contract@example.com"
PASSWORD = "Contract-test-42"
MAX_EXAMPLES = os.environ.get("CONTRACT_MAX_EXAMPLES", "25")
SEED = os.environ.get("CONTRACT_SEED", "20261125")

_GENEROUS_LIMITS = {
    "THROTTLE_ANON": "100000/min",
    "THROTTLE_USER": "100000/min",
    "THROTTLE_LOGIN_IP": "100000/min",
    "THROTTLE_REGISTER_IP": "100000/min",
    "THROTTLE_REFRESH": "100000/min",
    "THROTTLE_API_KEY": "100000/min",
    "LOGIN_FAILURES_PER_ACCOUNT_IP": "100000",
    "LOGIN_FAILURES_PER_IP": "100000",
    "LOGIN_FAILURES_PER_ACCOUNT": "100000",
}


def _schemathesis() -> list[str]:
    found = shutil.which("schemathesis", path=os.path.dirname(sys.executable))
    assert found, "schemathesis is installed with requirements-dev.txt"
    return [found]


def test_every_operation_conforms_to_the_schema(tmp_path, upstream):  # noqa: F811
    with own_database(tmp_path, "contract") as database_url:
        env = server_env(database_url, tmp_path, **_GENEROUS_LIMITS)
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        # Replies come from the tests' fast OpenAI-compatible upstream (the embedded model would
        # take seconds per request), so the OpenAI-compatible API is exercised end to end.
        script = (
            "from conversations.models import LLMModel; "
            "LLMModel.objects.update(enabled=False, is_default=False); "
            "LLMModel.objects.create(slug='fast', display_name='fast', provider='openai', upstream_model='normal:3', "
            f"base_url='{upstream.base_url}', is_default=True, max_output_tokens=64, context_window=4096)"
        )
        manage(env, "shell", "-c", script)
        server = ServerProcess(env).start()
        try:
            body = {"email": EMAIL, "password": PASSWORD}
            assert httpx.post(f"{server.base}/api/v1/auth/register", json=body).status_code == 202
            run = subprocess.run(  # noqa: S603 (the installed schemathesis CLI, fixed arguments)
                [
                    *_schemathesis(),
                    "--config-file",
                    str(ROOT / "schemathesis.toml"),
                    "run",
                    f"{server.base}/api/schema/",
                    "--checks",
                    "all",
                    "--max-examples",
                    MAX_EXAMPLES,
                    "--seed",
                    SEED,
                    "--no-color",
                ],
                cwd=tmp_path,  # its cache and reports stay out of the checkout
                env={
                    **os.environ,
                    "PYTHONPATH": str(ROOT),
                    "SCHEMATHESIS_HOOKS": "tests.config.contract_hooks",
                    "CONTRACT_BASE_URL": server.base,
                    "CONTRACT_EMAIL": EMAIL,
                    "CONTRACT_PASSWORD": PASSWORD,
                },
                capture_output=True,
                text=True,
                timeout=1200,
            )
        finally:
            server.stop()
    report = run.stdout + run.stderr
    (tmp_path / "schemathesis.txt").write_text(report)
    assert run.returncode == 0, report
    # Every operation of the document was exercised, none skipped by a filter.
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    assert selected and selected.group(1) == selected.group(2), report
