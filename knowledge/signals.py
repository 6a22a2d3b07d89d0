"""What knowledge answers when the apps below it say something happened (connected in apps.ready):
a file's text extracted, a collector item saved. Passages go with their file or item by the
foreign keys' cascade."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from collector.models import Item
from files.signals import file_ready

from . import services


@receiver(file_ready, dispatch_uid="knowledge_file_ready")
def index_ready_file(sender, file, **kwargs) -> None:
    services.passages_index_file(file=file)


@receiver(post_save, sender=Item, dispatch_uid="knowledge_item_saved")
def index_saved_item(sender, instance: Item, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw:
        return  # loaddata: the rows as they are
    if update_fields is not None and not set(update_fields) & {"kind", "title", "url", "content"}:
        return  # its searched text did not change (tags, the stored file, times)
    # At once, in the saving transaction: the passages are written (or not) with the item.
    services.passages_index_item(item=instance)
