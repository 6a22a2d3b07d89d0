"""schemathesis hooks for the contract test (loaded through ``SCHEMATHESIS_HOOKS``).

The run itself signs its user out (``/auth/logout`` with ``all``, a password change), may revoke
API keys and could delete the account (``DELETE /user``), so fixed credentials would turn the rest
of the run into 401s and leave the operations behind them untested. These providers sign in again,
as the same device (registering the user again if it is gone), or make a new API key, whenever a
response says the credential no longer works (schemathesis retries a request that got a 401 once,
with a fresh one). The OpenAI-compatible ``/v1`` takes API keys.
"""

import os

import httpx
import schemathesis


def _base() -> str:
    return os.environ["CONTRACT_BASE_URL"]


def _session_token() -> str:
    credentials = {"email": os.environ["CONTRACT_EMAIL"], "password": os.environ["CONTRACT_PASSWORD"]}
    response = httpx.post(
        f"{_base()}/api/v1/auth/login", json={**credentials, "device_id": "contract-test"}, timeout=10
    )
    if response.status_code == 401:
        # The run deleted its own account (``DELETE /user`` with the right password): the same
        # user again, so the operations after it still run signed in.
        httpx.post(f"{_base()}/api/v1/auth/register", json=credentials, timeout=10).raise_for_status()
        response = httpx.post(
            f"{_base()}/api/v1/auth/login", json={**credentials, "device_id": "contract-test"}, timeout=10
        )
    response.raise_for_status()
    return response.json()["access"]


def _set_bearer(case, token: str) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


@schemathesis.auth(refresh_interval=240).apply_to(path_regex="^/api/")  # access tokens live 5 minutes
class SignedInUser:
    def get(self, case, context):
        return _session_token()

    def set(self, case, data, context):
        _set_bearer(case, data)


@schemathesis.auth(refresh_interval=300).apply_to(path_regex="^/v1/")
class ApiKey:
    def get(self, case, context):
        created = httpx.post(
            f"{_base()}/api/v1/api-keys",
            json={"name": "contract test"},
            headers={"Authorization": f"Bearer {_session_token()}"},
            timeout=10,
        )
        created.raise_for_status()
        return created.json()["key"]

    def set(self, case, data, context):
        _set_bearer(case, data)
