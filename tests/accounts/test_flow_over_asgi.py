"""The whole session story through the production ASGI app under a real uvicorn server."""

import httpx


def test_register_two_devices_rotate_replay_logout_all(asgi_server, password, reuse_interval_over):
    http = httpx.Client(base_url=asgi_server, timeout=30)

    def me(access):
        return http.get("/api/v1/user", headers={"Authorization": f"Bearer {access}"}).status_code

    r = http.post("/api/v1/auth/register", json={"email": "Dana@Example.com", "password": password})
    assert r.status_code == 202, r.text
    assert r.headers["X-Request-ID"]
    phone = http.post("/api/v1/auth/login", json={"email": "dana@example.com", "password": password}).json()
    laptop = http.post(
        "/api/v1/auth/login",
        data={"username": "DANA@example.com", "password": password, "device_id": "laptop"},
    ).json()
    assert laptop["access_token"] == laptop["access"]

    rotated = http.post("/api/v1/auth/refresh", json={"refresh": phone["refresh"]})
    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != phone["refresh"]

    replay = http.post("/api/v1/auth/refresh", json={"refresh": phone["refresh"]})
    assert (replay.status_code, replay.json()["code"]) == (401, "token_reused")
    assert me(rotated.json()["access"]) == 401
    assert me(laptop["access"]) == 200

    devices = http.get("/api/v1/auth/devices", headers={"Authorization": f"Bearer {laptop['access']}"}).json()
    assert [(d["device_id"], d["current"]) for d in devices["results"]] == [("laptop", True)]

    out = http.post("/api/v1/auth/logout", json={"all": True}, headers={"Authorization": f"Bearer {laptop['access']}"})
    assert out.status_code == 204
    assert me(laptop["access"]) == 401
    assert http.post("/api/v1/auth/refresh", json={"refresh": laptop["refresh"]}).status_code == 401
    http.close()
