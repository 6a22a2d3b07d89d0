import pytest

pytestmark = pytest.mark.django_db


def test_register_login_refresh_reuse_logout_all(api_client, password, reuse_interval_over):
    r = api_client.post("/api/v1/auth/register", {"email": "Bob@Example.com", "password": password}, format="json")
    assert r.status_code == 202, r.content

    a = api_client.post("/api/v1/auth/login", {"email": "bob@example.com", "password": password, "device_id": "phone"})
    b = api_client.post("/api/v1/auth/login", {"email": "BOB@example.com", "password": password, "device_id": "laptop"})
    assert a.status_code == b.status_code == 200, a.content
    a, b = a.json(), b.json()
    assert a["device"]["device_id"] == "phone" and a["token_type"] == "Bearer"

    r1 = api_client.post("/api/v1/auth/refresh", {"refresh": a["refresh"]})
    assert r1.status_code == 200, r1.content
    assert r1.json()["refresh"] != a["refresh"]

    replay = api_client.post("/api/v1/auth/refresh", {"refresh": a["refresh"]})
    assert replay.status_code == 401
    assert replay.json()["code"] == "token_reused"

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {r1.json()['access']}")
    assert api_client.get("/api/v1/user").status_code == 401  # device a is dead
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {b['access']}")
    assert api_client.get("/api/v1/user").status_code == 200  # device b is alive

    assert api_client.post("/api/v1/auth/logout", {"all": True}).status_code == 204
    assert api_client.get("/api/v1/user").status_code == 401
    assert api_client.post("/api/v1/auth/refresh", {"refresh": b["refresh"]}).status_code == 401
