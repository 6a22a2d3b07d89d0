"""Files for the attachment tests, made in the test: real PNGs (Pillow), stored files, documents
with pages and their passages (indexed by knowledge's own service, as its job does)."""

import base64
import io

from django.core.files.base import ContentFile
from PIL import Image

from conversations.models import LLMModel
from files.models import FilePage, FileStatus, StoredFile


def png_bytes(width: int = 64, height: int = 48, color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), color)
    # A second colour in one corner, so the picture has content (and orientation) to check.
    image.paste((20, 20, 220), (0, 0, width // 4, height // 4))
    image.save(out, format="PNG")
    return out.getvalue()


def image_of(data_url: str) -> Image.Image:
    header, _, encoded = data_url.partition(",")
    assert header in ("data:image/png;base64", "data:image/jpeg;base64"), header
    return Image.open(io.BytesIO(base64.b64decode(encoded)))


def stored_file(owner, *, name="file.bin", content_type="application/octet-stream", data=b"x", **fields) -> StoredFile:
    row = StoredFile(owner=owner, name=name, content_type=content_type, size=len(data), **fields)
    row.blob.save(name, ContentFile(data), save=False)
    row.save()
    return row


def image_file(owner, *, name="screenshot.png", width=64, height=48, **fields) -> StoredFile:
    fields.setdefault("status", FileStatus.READY)
    return stored_file(owner, name=name, content_type="image/png", data=png_bytes(width, height), **fields)


def document(owner, *, name="report.pdf", pages: list[str], status=FileStatus.READY, index=True) -> StoredFile:
    """A document as extraction leaves it: its pages' text, ready, its passages indexed."""
    row = stored_file(
        owner, name=name, content_type="application/pdf", data=b"%PDF-1.4 test", status=status, pages=len(pages)
    )
    FilePage.objects.bulk_create(FilePage(file=row, number=i, text=text) for i, text in enumerate(pages, start=1))
    if index and status == FileStatus.READY:
        from knowledge.services import passages_index_file

        passages_index_file(file=row)
    return row


def vision_model(upstream, spec: str = "burst:3", **fields) -> LLMModel:
    return text_model(upstream, spec, slug="vision-" + spec.replace(":", "-"), capabilities=["vision"], **fields)


def text_model(upstream, spec: str = "burst:3", *, slug=None, **fields) -> LLMModel:
    fields.setdefault("context_window", 8192)
    fields.setdefault("max_output_tokens", 64)
    return LLMModel.objects.create(
        slug=slug or "text-" + spec.replace(":", "-").replace(".", "-"),
        display_name=slug or spec,
        provider="openai",
        upstream_model=spec,
        base_url=upstream.base_url,
        request_timeout_seconds=5.0,
        **fields,
    )
