"""What portability answers when other apps say something happened (connected in apps.ready). The
files of imports (an upload not read yet) and exports (a zip) go with their rows by core's one
rule (core/files.py)."""

from django.dispatch import receiver

from accounts.signals import account_deleting

from .models import Export, Import


@receiver(account_deleting, dispatch_uid="portability_account_deleting")
def files_of_a_deleted_account(sender, user, **kwargs) -> dict:
    # Imports and exports go with the account's cascade, their files after commit.
    return {"files": sum(model.objects.filter(owner=user).exclude(file="").count() for model in (Import, Export))}
