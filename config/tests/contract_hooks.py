"""schemathesis hooks for the contract test (loaded through ``SCHEMATHESIS_HOOKS``).

The run itself signs its user out (``/auth/logout`` with ``all``, a password change), so a fixed
token would turn the rest of the run into 401s and leave the operations behind them untested. This
provider signs in again, as the same device, whenever a response says the token no longer works
(schemathesis retries a request that got a 401 once, with a fresh token).
"""

import os

import httpx
import schemathesis


@schemathesis.auth(refresh_interval=240)  # access tokens live 5 minutes
class SignedInUser:
    def get(self, case, context):
        response = httpx.post(
            f"{os.environ['CONTRACT_BASE_URL']}/api/v1/auth/login",
            json={
                "email": os.environ["CONTRACT_EMAIL"],
                "password": os.environ["CONTRACT_PASSWORD"],
                "device_id": "contract-test",
            },
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["access"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
