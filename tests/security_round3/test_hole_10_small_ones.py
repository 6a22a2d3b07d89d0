"""Issue 18, hole 10 (the low ones), each tried as it was found, against a live server where it was
found that way. (The others of hole 10 live beside: registration in test_holes_8_9_10_sign_in.py,
Redis down in test_hole_10_redis_down.py; continuing a share asks first in the web client's
browser test ``test_continue_a_share_asks_before_copying_it``.)"""

import csv
import io
import json

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from accounts.models import User
from sharing import services as sharing_services
from tests.conversations.test_stream import bearer, exchange, make_model
from tests.conversations.upstream import upstream  # noqa: F401
from tests.sharing.factories import conversation_with_messages

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("value", ["+5", " 5", "5_0", "٥", "５", "0x5", "-1"])
def test_last_event_id_takes_ascii_digits_only(asgi_server, upstream, user, value):  # noqa: F811
    conversation, _reply = exchange(user, make_model(upstream, "normal:3"))
    url = f"{asgi_server}/api/v1/conversations/{conversation.pk}/stream"
    if value == value.strip():  # HTTP itself trims a header's surrounding whitespace
        response = httpx.get(url, headers={**bearer(user), "Last-Event-ID": value.encode()})
        assert response.status_code == 400, (value, response.text)
        assert "last_event_id" in response.json()
    query = httpx.get(url, headers=bearer(user), params={"last_event_id": value})
    assert query.status_code == 400, value

    ws_url = asgi_server.replace("http://", "ws://") + f"/ws/conversations/{conversation.pk}/"
    token = bearer(user)["Authorization"].split()[1]
    with connect(ws_url, origin="http://127.0.0.1") as ws:
        ws.send(json.dumps({"type": "auth", "token": token, "last_event_id": value}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 4400


def test_a_csv_export_never_hands_a_spreadsheet_a_formula(asgi_server, staff_user, password):
    # Any user controls their display name; the admin's CSV export went out with ==, +, -, @ first.
    User.objects.filter(pk=staff_user.pk).update(is_superuser=True)
    hostile = ['==HYPERLINK("http://evil.example","x")', "+SUM(1)", "-1+1", "@SUM(1)", "\tTAB", "\rCR"]
    for index, name in enumerate(hostile):
        User.objects.create_user(email=f"h{index}@example.com", password="Hostile-pass-42", display_name=name)
    with httpx.Client(base_url=asgi_server, timeout=30) as client:
        client.get("/admin/login/")
        client.post(
            "/admin/login/?next=/admin/",
            data={
                "username": staff_user.email,
                "password": password,
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
            },
        )
        page = client.get("/admin/accounts/user/export/")
        token = client.cookies["csrftoken"]
        response = client.post(
            "/admin/accounts/user/export/",
            data={"format": "0", "csrfmiddlewaretoken": token, "resource": "0"},
            headers={"Referer": f"{asgi_server}/admin/accounts/user/export/"},
        )
    assert page.status_code == 200
    assert response.status_code == 200, response.text[:300]
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(response.text))}
    for index, name in enumerate(hostile):
        cell = rows[f"h{index}@example.com"]["display_name"]
        assert cell.startswith("'") and cell[1:].strip() == name.strip(), cell


def test_the_share_page_loads_no_remote_image_for_its_readers(asgi_server, user):
    pixel = "https://tracker.example/pixel.png?reader=1"
    conversation = conversation_with_messages(owner=user, pairs=[("show", f"Look: ![chart]({pixel})")])
    share = sharing_services.share_create(user=user, conversation=conversation)
    response = httpx.get(f"{asgi_server}/share/{share.pk}/")
    assert response.status_code == 200
    assert f'<img src="{pixel}"' not in response.text and "<img" not in response.text
    assert pixel.replace("&", "&amp;") in response.text  # shown as a link the reader may follow
    img_src = next(d for d in response.headers["content-security-policy"].split(";") if "img-src" in d)
    assert "https:" not in img_src


def test_a_note_has_no_file_and_says_so_rather_than_vanishing(asgi_server, user):
    # The OpenAPI link POST /collector/items -> GET /collector/items/{id}/file answered 404 for a
    # note or a link: a resource just made, "not found". It is a 409 naming why.
    headers = bearer(user)
    note = httpx.post(
        f"{asgi_server}/api/v1/collector/items", json={"kind": "note", "title": "n"}, headers=headers
    ).json()
    response = httpx.get(f"{asgi_server}/api/v1/collector/items/{note['id']}/file", headers=headers)
    assert response.status_code == 409
    assert response.json()["code"] == "item_has_no_file"


@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/", "/api/redoc/"])
def test_the_admin_and_the_api_docs_send_a_content_security_policy(asgi_server, path):
    response = httpx.get(f"{asgi_server}{path}")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
