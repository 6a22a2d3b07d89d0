"""``conversations.images``: what a vision model is sent is always a plain PNG or JPEG of a bounded
size, upright as its EXIF says, whatever was uploaded."""

import io

import pytest
from PIL import Image

from conversations import images


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def decoded(raw: bytes) -> Image.Image:
    return Image.open(io.BytesIO(raw))


def test_a_photo_is_rotated_as_its_exif_says_resized_and_sent_as_jpeg():
    photo = Image.new("RGB", (3000, 2000), (10, 200, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    content_type, raw = images.prepared(encoded(photo, "JPEG", exif=exif.tobytes()))
    assert content_type == "image/jpeg"
    out = decoded(raw)
    assert out.size == (1045, 1568)  # upright (portrait), the longer side at the limit
    assert not out.getexif().get(0x0112)  # no EXIF travels on


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP"])
def test_screenshots_and_transparency_stay_lossless(fmt):
    picture = Image.new("RGBA", (200, 100), (0, 0, 255, 128))
    content_type, raw = images.prepared(encoded(picture, fmt))
    assert content_type == "image/png"
    assert decoded(raw).size == (200, 100)  # small images are not enlarged


def test_an_animated_gif_sends_its_first_frame():
    frames = [Image.new("P", (40, 40), i) for i in (1, 2, 3)]
    raw = io.BytesIO()
    frames[0].save(raw, format="GIF", save_all=True, append_images=frames[1:])
    content_type, data = images.prepared(raw.getvalue())
    assert content_type == "image/png" and decoded(data).size == (40, 40)


@pytest.mark.parametrize("raw", [b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50])
def test_what_is_not_an_image_is_refused(raw):
    with pytest.raises(images.ImageProblem) as refused:
        images.prepared(raw)
    assert refused.value.code == "invalid_image"


def test_an_image_past_the_pixel_bound_is_refused_before_decoding(monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    with pytest.raises(images.ImageProblem) as refused:
        images.prepared(encoded(Image.new("RGB", (20, 20)), "PNG"))
    assert refused.value.code == "image_too_large"


def test_data_urls_are_bounded(settings):
    settings.CHAT = {**settings.CHAT, "IMAGE_MAX_BYTES": 10}
    assert images.data_url_bytes("data:image/png;base64,AAAA") == b"\x00\x00\x00"
    with pytest.raises(images.ImageProblem, match="at most 10 bytes"):
        images.data_url_bytes("data:image/png;base64," + "A" * 40)
    with pytest.raises(images.ImageProblem) as refused:
        images.data_url_bytes("https://example.com/a.png")
    assert refused.value.code == "image_url_not_supported"
