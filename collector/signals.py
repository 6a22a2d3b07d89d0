"""What collector answers when other apps say something happened (connected in apps.ready). Item
files go with their rows by core's one rule (core/files.py)."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.signals import account_deleting
from files.services import files_delete_unreferenced

from .models import Item


@receiver(account_deleting, dispatch_uid="collector_account_deleting")
def files_of_a_deleted_account(sender, user, **kwargs) -> dict:
    # The items go with the account's cascade, their files after commit: say how many files.
    return {"files": Item.objects.filter(owner=user).exclude(file="").count()}


@receiver(post_delete, sender=Item, dispatch_uid="collector_item_stored_file")
def stored_file_of_a_deleted_item(sender, instance: Item, **kwargs) -> None:
    # However the item goes (the API, the admin's bulk delete), its file goes with it unless a
    # message still holds it. After commit, in a transaction of its own: an account's cascade may
    # already have taken the file.
    file_id = instance.stored_file_id
    if file_id:
        transaction.on_commit(lambda: files_delete_unreferenced(file_ids=[file_id]))
