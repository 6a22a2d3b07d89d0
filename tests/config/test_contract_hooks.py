"""The contract run's sign-in hook survives the run deleting its own account (``DELETE /user``)."""

import httpx
import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL, PASSWORD = "contract@example.com", "Contract-test-42"


def test_the_hook_signs_in_again_after_the_account_was_deleted(asgi_server, monkeypatch):
    from tests.config import contract_hooks

    monkeypatch.setenv("CONTRACT_BASE_URL", asgi_server)
    monkeypatch.setenv("CONTRACT_EMAIL", EMAIL)
    monkeypatch.setenv("CONTRACT_PASSWORD", PASSWORD)
    assert httpx.post(f"{asgi_server}/api/v1/auth/register", json={"email": EMAIL, "password": PASSWORD}).is_success
    token = contract_hooks._session_token()
    headers = {"Authorization": f"Bearer {token}"}
    deleted = httpx.request("DELETE", f"{asgi_server}/api/v1/user", json={"password": PASSWORD}, headers=headers)
    assert deleted.status_code == 204
    assert not User.objects.filter(email=EMAIL).exists()

    token = contract_hooks._session_token()

    me = httpx.get(f"{asgi_server}/api/v1/user", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == EMAIL
