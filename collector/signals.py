from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import Item


@receiver(post_delete, sender=Item, dispatch_uid="collector_item_file_cleanup")
def item_file_delete_after_commit(sender, instance: Item, **kwargs) -> None:
    # Covers every way a row goes (item_delete, admin bulk delete, a user's account cascading),
    # and only once the deletion is committed, so a rollback never leaves a row without its file.
    if not instance.file:
        return
    storage, name = instance.file.storage, instance.file.name
    transaction.on_commit(lambda: storage.delete(name))
