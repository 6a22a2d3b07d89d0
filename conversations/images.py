"""Images for vision models: decoded, bounded, EXIF-rotated, resized and re-encoded, as data URLs.

Whatever a user uploads (or a /v1 client sends) is decoded and encoded again by Pillow, so a model
only ever receives a plain PNG or JPEG of a bounded size, never the original bytes (metadata,
odd formats, a decompression bomb).
"""

import base64
import binascii
import io
import re

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

# Refused before decoding: a 10,000 x 10,000 image is already far beyond any screenshot or photo.
MAX_PIXELS = 100_000_000
DATA_URL = re.compile(r"data:(image/[a-z0-9.+-]+);base64,(.*)", re.IGNORECASE | re.DOTALL)


class ImageProblem(ValueError):
    """An image that cannot be sent; ``code`` is stable."""

    def __init__(self, message: str, *, code: str = "invalid_image"):
        super().__init__(message)
        self.code = code


def prepared(raw: bytes, *, max_side: int | None = None) -> tuple[str, bytes]:
    """``(content_type, bytes)`` of the image ``raw`` fit for a model: rotated as its EXIF says,
    longer side at most ``max_side`` (``CHAT_IMAGE_MAX_SIDE``), PNG if it has transparency or
    was a PNG or GIF (screenshots, diagrams: sharp edges), else JPEG (photos)."""
    max_side = max_side or settings.CHAT["IMAGE_MAX_SIDE"]
    try:
        image = Image.open(io.BytesIO(raw))
        if image.width * image.height > MAX_PIXELS:
            raise ImageProblem("The image is too large (more than 100 megapixels).", code="image_too_large")
        source_format = image.format
        image.seek(0)  # an animated GIF or WebP: its first frame
        image = ImageOps.exif_transpose(image)
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    except ImageProblem:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageProblem("The image could not be read.") from exc
    lossless = source_format in ("PNG", "GIF") or (image.mode == "P" and "transparency" in image.info)
    out = io.BytesIO()
    try:
        if lossless or image.mode in ("RGBA", "LA"):
            if image.mode not in ("RGB", "RGBA", "L", "LA"):
                image = image.convert("RGBA")
            image.save(out, format="PNG", optimize=True)
            return "image/png", out.getvalue()
        image.convert("RGB").save(out, format="JPEG", quality=85)
    except (OSError, ValueError) as exc:  # a mode Pillow cannot convert (16-bit, odd palettes)
        raise ImageProblem("The image could not be read.") from exc
    return "image/jpeg", out.getvalue()


def data_url(raw: bytes, *, max_side: int | None = None) -> str:
    content_type, data = prepared(raw, max_side=max_side)
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


def image_part(raw: bytes) -> dict:
    """An OpenAI ``image_url`` content part of the image ``raw``, prepared for the model."""
    return {"type": "image_url", "image_url": {"url": data_url(raw)}}


def data_url_bytes(url: str) -> bytes:
    """The decoded bytes of a ``data:image/...;base64,`` URL, at most ``CHAT_IMAGE_MAX_BYTES``."""
    match = DATA_URL.fullmatch(url.strip())
    if match is None:
        raise ImageProblem("Only data:image/...;base64 URLs are accepted.", code="image_url_not_supported")
    limit = settings.CHAT["IMAGE_MAX_BYTES"]
    encoded = match.group(2)
    if len(encoded) * 3 // 4 > limit + 3:
        raise ImageProblem(f"An image may have at most {limit} bytes.", code="image_too_large")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageProblem("The image's base64 data is not valid.") from exc


def content_text(content) -> str:
    """The text of a message's content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content or () if part.get("type") == "text")


def image_count(content) -> int:
    if isinstance(content, str):
        return 0
    return sum(1 for part in content or () if part.get("type") == "image_url")
