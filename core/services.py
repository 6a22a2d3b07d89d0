"""Write helpers every app's services share."""

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field, Model


def _current_value(instance: Model, name: str, value):
    """The stored value of ``name`` and ``value`` in comparable form.

    A foreign key compares by id, so an unloaded relation is never fetched just to compare it.
    """
    field = instance._meta.get_field(name)
    if isinstance(field, Field) and (field.many_to_one or field.one_to_one):
        return getattr(instance, field.attname), getattr(value, "pk", value)
    return getattr(instance, name), value


def _has_field(instance: Model, name: str) -> bool:
    try:
        instance._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def save_changed(instance: Model, *, validate: bool = False, **changes) -> list[str]:
    """Set the fields whose value differs and save only those; returns their names.

    Nothing is written when nothing differs. ``updated_at`` is saved along with any change:
    ``auto_now`` only applies to the columns named in ``update_fields``. ``validate`` runs the
    model's validation (``full_clean``) on the changed fields before saving.
    """
    changed = []
    for name, value in changes.items():
        current, new = _current_value(instance, name, value)
        if current != new:
            setattr(instance, name, value)
            changed.append(name)
    if not changed:
        return changed
    if validate:
        # Relations are skipped: checking that a row just read still exists would cost a query.
        skipped = [
            field.name for field in instance._meta.concrete_fields if field.name not in changed or field.is_relation
        ]
        instance.full_clean(exclude=skipped)
    update_fields = list(changed)
    if _has_field(instance, "updated_at") and "updated_at" not in update_fields:
        update_fields.append("updated_at")
    instance.save(update_fields=update_fields)
    return changed
