"""Files uploaded to the collector before the files store become StoredFile rows (the same blob,
not copied): one store, one extraction, one count against the plan's storage. Their text is read
by the periodic sweep (files.tasks.files_sweep_job), which queues a file still ``processing``
after FILES_STUCK_AFTER_MINUTES; images are ready at once."""

import uuid

from django.db import migrations

IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/gif"}


def forwards(apps, schema_editor):
    Item = apps.get_model("collector", "Item")
    StoredFile = apps.get_model("files", "StoredFile")
    for item in Item.objects.exclude(file="").filter(stored_file__isnull=True).iterator(chunk_size=200):
        stored = StoredFile.objects.create(
            id=uuid.uuid4(),
            owner_id=item.owner_id,
            name=item.file_name or "file",
            content_type=item.content_type or "application/octet-stream",
            size=item.file_size or 0,
            blob=item.file.name,
            status="ready" if item.content_type in IMAGE_TYPES else "processing",
        )
        Item.objects.filter(pk=item.pk).update(stored_file=stored, file="", file_size=None)


def backwards(apps, schema_editor):
    Item = apps.get_model("collector", "Item")
    for item in Item.objects.filter(stored_file__isnull=False, file="").select_related("stored_file"):
        Item.objects.filter(pk=item.pk).update(file=item.stored_file.blob.name, file_size=item.stored_file.size)


class Migration(migrations.Migration):
    dependencies = [
        ("collector", "0002_item_stored_file"),
        ("files", "0002_extract_runs"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
