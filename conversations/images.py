"""Images for vision models: decoded, bounded, EXIF-rotated, resized and re-encoded, as data URLs.

Whatever a user uploads (or a /v1 client sends) is decoded and encoded again by Pillow, so a model
only ever receives a plain PNG or JPEG of a bounded size, never the original bytes (metadata,
odd formats, a decompression bomb).
"""

import base64
import binascii
import io
import re
import threading

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

# The only decoders reachable: Pillow would otherwise open TIFF, BMP, PSD, EPS (through
# Ghostscript), ICO... from any bytes a user uploads or a /v1 client sends.
FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
# Refused before decoding: 40 megapixels is past any phone photo (a 48 MP sensor bins to 12 MP)
# and still a 160 MB RGBA image once decoded, which a PNG of a few hundred KB can claim.
MAX_PIXELS = 40_000_000
# Images prepared at once in a process: each may take a few hundred MB and a CPU for a second;
# the others wait their turn rather than exhaust the process.
PREPARING = threading.BoundedSemaphore(2)
DATA_URL = re.compile(r"data:(image/[a-z0-9.+-]+);base64,(.*)", re.IGNORECASE | re.DOTALL)


class ImageProblem(ValueError):
    """An image that cannot be sent; ``code`` is stable."""

    def __init__(self, message: str, *, code: str = "invalid_image"):
        super().__init__(message)
        self.code = code


def prepared(raw: bytes, *, max_side: int | None = None) -> tuple[str, bytes]:
    """``(content_type, bytes)`` of the image ``raw`` fit for a model: rotated as its EXIF says,
    longer side at most ``max_side`` (``CHAT_IMAGE_MAX_SIDE``), PNG if it has transparency or
    was a PNG or GIF (screenshots, diagrams: sharp edges), else JPEG (photos). At most two at a
    time in a process (``PREPARING``)."""
    max_side = max_side or settings.CHAT["IMAGE_MAX_SIDE"]
    with PREPARING:
        return _prepared(raw, max_side)


def _prepared(raw: bytes, max_side: int) -> tuple[str, bytes]:
    try:
        image: Image.Image = Image.open(io.BytesIO(raw), formats=FORMATS)
        if image.width * image.height > MAX_PIXELS:
            raise ImageProblem(
                _("The image is too large (%(width)d x %(height)d pixels; at most %(limit)d megapixels).")
                % {"width": image.width, "height": image.height, "limit": MAX_PIXELS // 1_000_000},
                code="image_too_large",
            )
        source_format = image.format
        image.seek(0)  # an animated GIF or WebP: its first frame
        if source_format == "JPEG":
            # Decoded at a reduced scale (1/2 to 1/8) when much larger than needed: the size asked
            # is the one the thumbnail will have (EXIF's quarter turns keep the scale the same).
            ratio = min(1.0, max_side / max(image.size))
            image.draft("RGB", (max(1, int(image.width * ratio)), max(1, int(image.height * ratio))))
        # Shrunk before rotating: a square bound fits the image whichever way its EXIF turns it.
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        image = ImageOps.exif_transpose(image)
    except ImageProblem:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageProblem(_("The image could not be read (PNG, JPEG, GIF or WebP only).")) from exc
    transparent = "transparency" in image.info
    lossless = source_format in ("PNG", "GIF") or (image.mode == "P" and transparent)
    out = io.BytesIO()
    try:
        if lossless or image.mode in ("RGBA", "LA"):
            if image.mode not in ("RGB", "RGBA", "L", "LA") or (transparent and image.mode in ("RGB", "L")):
                image = image.convert("RGBA")
            image.info = {}  # no metadata travels on: no ICC profile, EXIF, text chunks
            image.save(out, format="PNG", optimize=True)
            return "image/png", out.getvalue()
        image = image.convert("RGB")
        image.info = {}
        image.save(out, format="JPEG", quality=85)
    except (OSError, ValueError) as exc:  # a mode Pillow cannot convert (16-bit, odd palettes)
        raise ImageProblem(_("The image could not be read.")) from exc
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
        raise ImageProblem(_("Only data:image/...;base64 URLs are accepted."), code="image_url_not_supported")
    limit = settings.CHAT["IMAGE_MAX_BYTES"]
    encoded = match.group(2)
    if len(encoded) * 3 // 4 > limit + 3:
        raise ImageProblem(_("An image may have at most %(limit)d bytes.") % {"limit": limit}, code="image_too_large")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageProblem(_("The image's base64 data is not valid.")) from exc


def content_text(content) -> str:
    """The text of a message's content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content or () if part.get("type") == "text")


def image_count(content) -> int:
    if isinstance(content, str):
        return 0
    return sum(1 for part in content or () if part.get("type") == "image_url")
