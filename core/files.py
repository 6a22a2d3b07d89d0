"""Stored files go with their rows: one rule for every model with a ``FileField``, whichever app it
belongs to and however its rows go (a service, the admin's bulk delete, an account's cascade).

The file is deleted once the deletion has committed, so a rollback never leaves a row without its
file. (A model with ``post_delete`` receivers is never fast-deleted by Django's collector: every
row that goes passes here.) Connected for every installed model by ``CoreConfig.ready``.
"""

import logging

from django.apps import apps
from django.db import models, transaction
from django.db.models.signals import post_delete

logger = logging.getLogger(__name__)


def _file_fields(model) -> list[models.FileField]:
    return [field for field in model._meta.concrete_fields if isinstance(field, models.FileField)]


def _delete_after_commit(storage, name: str) -> None:
    def delete():
        try:
            storage.delete(name)
        except Exception:  # the row is gone: a file left behind is logged, not an error
            logger.warning("could not delete the stored file %s", name, exc_info=True)

    transaction.on_commit(delete)


def _files_of_deleted_row(sender, instance, **kwargs) -> None:
    for field in _file_fields(sender):
        stored = getattr(instance, field.attname)
        if stored:
            _delete_after_commit(stored.storage, stored.name)


def connect_file_cleanup() -> list[type[models.Model]]:
    """Connect the rule to every installed model holding files; returns those models."""
    covered = [model for model in apps.get_models() if _file_fields(model)]
    for model in covered:
        post_delete.connect(_files_of_deleted_row, sender=model, dispatch_uid=f"core.files:{model._meta.label}")
    return covered
