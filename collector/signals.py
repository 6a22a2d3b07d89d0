"""What collector answers when other apps say something happened (connected in apps.ready). Item
files go with their rows by core's one rule (core/files.py)."""

from django.dispatch import receiver

from accounts.signals import account_deleting

from .models import Item


@receiver(account_deleting, dispatch_uid="collector_account_deleting")
def files_of_a_deleted_account(sender, user, **kwargs) -> dict:
    # The items go with the account's cascade, their files after commit: say how many files.
    return {"files": Item.objects.filter(owner=user).exclude(file="").count()}
