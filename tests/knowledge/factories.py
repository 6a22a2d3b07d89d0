"""Files with extracted pages, made as rows (the extraction itself is the files app's, tested there)."""

from files.models import FilePage, FileStatus, StoredFile
from files.signals import file_ready


def ready_file(owner, name: str, pages: list[str], *, announce: bool = True) -> StoredFile:
    """A ready file whose pages hold ``pages`` (page i+1 = pages[i]); ``announce`` sends
    ``file_ready`` as the extraction job does, which indexes it."""
    file = StoredFile.objects.create(
        owner=owner,
        name=name,
        content_type="application/pdf",
        size=sum(len(p.encode()) for p in pages),
        blob=f"files/{owner.pk}/{name}",
        status=FileStatus.READY,
        pages=len(pages),
    )
    FilePage.objects.bulk_create(FilePage(file=file, number=i + 1, text=text) for i, text in enumerate(pages))
    if announce:
        file_ready.send(sender=StoredFile, file=file)
    return file
