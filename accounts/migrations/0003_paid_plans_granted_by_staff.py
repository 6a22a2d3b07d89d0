"""Paid plans are granted by staff, not chosen by users: any user could switch themselves to Plus
(ten times Free's quota). A billing integration can flip ``selectable_by_user`` back later.
Only the seeded Plus row is changed, and only while it still has its seeded values."""

from django.db import migrations


def forwards(apps, schema_editor):
    apps.get_model("accounts", "Plan").objects.filter(
        slug="plus", name="Plus", daily_message_limit=500, selectable_by_user=True
    ).update(selectable_by_user=False)


def backwards(apps, schema_editor):
    apps.get_model("accounts", "Plan").objects.filter(slug="plus", name="Plus").update(selectable_by_user=True)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_seed_plans")]

    operations = [migrations.RunPython(forwards, backwards)]
