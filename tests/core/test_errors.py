"""Every error under /api/ is JSON {detail, code}, even where DRF's handler never runs."""

import pytest
from django.test import Client
from django.urls import path

from config import urls as root_urls

pytestmark = pytest.mark.django_db


def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_a_malformed_id_in_an_api_path_is_a_json_404(client):
    response = client.get("/api/v1/conversations/not-a-uuid/messages")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_an_oversize_body_is_a_json_400(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/api/v1/auth/login", {"email": "x" * 2000}, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "code" in response.json()


def _boom(request):
    raise RuntimeError("boom")


def test_a_crash_under_the_api_is_a_json_500(settings):
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Something went wrong on our side.", "code": "server_error"}


def test_pages_outside_the_api_keep_html_errors(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


urlpatterns = [path("api/v1/boom", _boom), *root_urls.urlpatterns]
handler500 = root_urls.handler500


def test_an_invalid_token_answers_the_one_error_shape(client):
    response = client.get("/api/v1/user", HTTP_AUTHORIZATION="Bearer not.a.token")
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}
