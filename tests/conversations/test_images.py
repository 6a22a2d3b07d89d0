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


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels in a few dozen bytes (a decompression bomb's
    header): refusing it must not need its pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_bomb_of_a_hundred_megapixels_is_refused_from_its_header():
    with pytest.raises(images.ImageProblem) as refused:
        images.prepared(png_header_only(10_000, 9_999))
    assert refused.value.code == "image_too_large"
    assert "40 megapixels" in str(refused.value)


@pytest.mark.parametrize("fmt", ["TIFF", "BMP", "ICO", "PPM", "TGA"])
def test_only_png_jpeg_gif_and_webp_are_decoded(fmt):
    raw = encoded(Image.new("RGB", (32, 32), (1, 2, 3)), fmt)
    assert Image.open(io.BytesIO(raw)).format == fmt  # Pillow itself would read it
    with pytest.raises(images.ImageProblem) as refused:
        images.prepared(raw)
    assert refused.value.code == "invalid_image"
    assert "PNG, JPEG, GIF or WebP" in str(refused.value)


def test_a_large_jpeg_is_decoded_at_a_reduced_scale(monkeypatch):
    sizes = []
    thumbnail = Image.Image.thumbnail

    def spy(self, size, *args, **kwargs):
        sizes.append(self.size)
        return thumbnail(self, size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "thumbnail", spy)
    raw = encoded(Image.new("RGB", (4000, 3000), (90, 90, 200)), "JPEG")
    content_type, data = images.prepared(raw)
    assert content_type == "image/jpeg" and decoded(data).size == (1568, 1176)
    assert sizes == [(2000, 1500)]  # JPEG's 1/2 scale: a quarter of the pixels decoded


def test_png_output_carries_no_metadata():
    from PIL import ImageCms, PngImagePlugin

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Someone private")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    raw = encoded(Image.new("RGBA", (50, 40), (0, 0, 255, 128)), "PNG", icc_profile=icc, pnginfo=text, exif=exif)
    assert decoded(raw).info.get("icc_profile") and decoded(raw).info.get("Author")
    content_type, data = images.prepared(raw)
    assert content_type == "image/png"
    out = decoded(data)
    out.load()
    assert not out.info.get("icc_profile") and "Author" not in out.info and not out.getexif()


def test_at_most_two_images_are_prepared_at_once():
    import threading

    raw = encoded(Image.new("RGB", (40, 40)), "PNG")
    done = threading.Event()
    images.PREPARING.acquire()
    images.PREPARING.acquire()
    try:
        worker = threading.Thread(target=lambda: (images.prepared(raw), done.set()))
        worker.start()
        assert not done.wait(0.3)  # a third waits its turn
    finally:
        images.PREPARING.release()
        images.PREPARING.release()
    assert done.wait(5)
    worker.join()
