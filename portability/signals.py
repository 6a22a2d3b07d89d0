from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import Export, Import


@receiver(post_delete, sender=Import, dispatch_uid="portability_import_file_cleanup")
@receiver(post_delete, sender=Export, dispatch_uid="portability_export_file_cleanup")
def job_file_delete_after_commit(sender, instance, **kwargs) -> None:
    # An upload not read yet or an export zip goes with its row (an account deleted with its rows
    # too), once the deletion is committed.
    if not instance.file:
        return
    storage, name = instance.file.storage, instance.file.name
    transaction.on_commit(lambda: storage.delete(name))
