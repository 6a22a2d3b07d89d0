"""What conversations does when other apps say something happened (connected in apps.ready)."""

from django.dispatch import receiver

from accounts.signals import account_deleting

from . import services


@receiver(account_deleting, dispatch_uid="conversations_account_deleting")
def conversations_of_a_deleted_account(sender, user, **kwargs) -> dict:
    # Its replies stop, its conversations go a batch at a time (their messages with them); the
    # reply ledger's entries stay, without the user.
    return {"conversations": services.conversations_delete_owned(owner=user)}
