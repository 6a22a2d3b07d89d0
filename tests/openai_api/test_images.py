"""``image_url`` parts on ``/v1/chat/completions``: passed, resized, to a model with the vision
capability; refused with a clear 400 for others, and for anything but a data URL."""

import base64
import io

import httpx
import pytest
from PIL import Image

from accounts import services as account_services
from tests.conversations.attached import image_of, png_bytes, text_model, vision_model
from tests.conversations.test_images import png_header_only
from tests.conversations.upstream import upstream  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def headers(user):
    _key, secret = account_services.api_key_create(user=user, name="script")
    return {"Authorization": f"Bearer {secret}"}


def data_url(raw: bytes, kind: str = "png") -> str:
    return f"data:image/{kind};base64,{base64.b64encode(raw).decode()}"


def ask(server, headers, model: str, url: str) -> httpx.Response:
    content = [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": url}}]
    body = {"model": model, "messages": [{"role": "user", "content": content}]}
    return httpx.post(f"{server}/v1/chat/completions", json=body, headers=headers, timeout=30)


def test_an_image_reaches_a_vision_model_resized(asgi_server, headers, upstream):  # noqa: F811
    model = vision_model(upstream)
    before = len(upstream.requests)
    response = ask(asgi_server, headers, model.slug, data_url(png_bytes(3000, 4000)))
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"]
    assert len(upstream.requests) == before + 1
    text, image = upstream.requests[-1]["messages"][-1]["content"]
    assert text == {"type": "text", "text": "What is this?"}
    assert image_of(image["image_url"]["url"]).size == (1176, 1568)
    listed = httpx.get(f"{asgi_server}/v1/models", headers=headers).json()["data"]
    assert next(m for m in listed if m["id"] == model.slug)["capabilities"] == ["vision"]


def test_a_text_model_refuses_images_before_any_call(asgi_server, headers, upstream):  # noqa: F811
    model = text_model(upstream)
    before = len(upstream.requests)
    response = ask(asgi_server, headers, model.slug, data_url(png_bytes()))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "model_cannot_read_images" and "vision" in error["message"]
    assert error["param"] == "messages"
    assert len(upstream.requests) == before


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://example.com/cat.png", "image_url_not_supported"),
        ("http://127.0.0.1:9/internal.png", "image_url_not_supported"),
        ("data:image/png;base64,!!!notbase64", "invalid_image"),
        ("data:image/png;base64," + base64.b64encode(b"not an image").decode(), "invalid_image"),
    ],
)
def test_other_image_urls_are_refused_clearly(asgi_server, headers, upstream, url, code):  # noqa: F811
    model = vision_model(upstream)
    before = len(upstream.requests)
    response = ask(asgi_server, headers, model.slug, url)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["param"] == "messages[0].content"
    assert len(upstream.requests) == before


def test_a_too_large_image_is_refused(asgi_server, headers, upstream, settings):  # noqa: F811
    settings.CHAT = {**settings.CHAT, "IMAGE_MAX_BYTES": 1000}
    model = vision_model(upstream)
    response = ask(asgi_server, headers, model.slug, data_url(b"\x89PNG" + b"0" * 4000))
    assert response.status_code == 400 and response.json()["error"]["code"] == "image_too_large"


def test_images_are_counted_per_request_not_per_message(asgi_server, headers, upstream):  # noqa: F811
    model = vision_model(upstream, context_window=65536)
    before = len(upstream.requests)
    one = {"type": "image_url", "image_url": {"url": data_url(png_bytes(20, 20))}}
    turns = [{"role": "user", "content": [{"type": "text", "text": f"Picture {i}"}, one]} for i in range(11)]
    body = {"model": model.slug, "messages": turns}
    response = httpx.post(f"{asgi_server}/v1/chat/completions", json=body, headers=headers, timeout=30)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "too_many_images" and "10 images per request" in error["message"]
    assert len(upstream.requests) == before
    body["messages"] = turns[:10]
    response = httpx.post(f"{asgi_server}/v1/chat/completions", json=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text


def test_a_text_model_refuses_images_before_decoding_them(asgi_server, headers, upstream):  # noqa: F811
    # A 100-megapixel bomb to a text model: refused for the model, so it was never looked into.
    bomb = png_header_only(10_000, 9_999)
    response = ask(asgi_server, headers, text_model(upstream).slug, data_url(bomb))
    assert response.status_code == 400 and response.json()["error"]["code"] == "model_cannot_read_images"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_bomb_and_formats_other_than_png_jpeg_gif_webp_are_refused(asgi_server, headers, upstream):  # noqa: F811
    model = vision_model(upstream)
    before = len(upstream.requests)
    response = ask(asgi_server, headers, model.slug, data_url(png_header_only(10_000, 9_999)))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "image_too_large" and error["param"] == "messages[0].content"
    assert "megapixels" in error["message"]
    for fmt in ("TIFF", "BMP"):
        out = io.BytesIO()
        Image.new("RGB", (30, 30)).save(out, format=fmt)
        response = ask(asgi_server, headers, model.slug, data_url(out.getvalue(), fmt.lower()))
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_image" and "PNG, JPEG, GIF or WebP" in error["message"]
    assert len(upstream.requests) == before
