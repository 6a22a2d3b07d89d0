"""What files answers when other apps say something happened (connected in apps.ready). Blobs go
with their rows by core's one rule (core/files.py), including an account's cascade."""

from django.dispatch import receiver

from accounts.signals import account_deleting

from .models import StoredFile


@receiver(account_deleting, dispatch_uid="files_account_deleting")
def files_of_a_deleted_account(sender, user, **kwargs) -> dict:
    return {"files": StoredFile.objects.filter(owner=user).count()}
