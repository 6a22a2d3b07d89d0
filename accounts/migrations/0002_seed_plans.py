from django.db import migrations

PLANS = [
    # slug, name, daily messages (0 = unlimited), concurrent generations, selectable, order
    ("free", "Free", 50, 1, True, 0),
    ("plus", "Plus", 500, 2, True, 1),
    ("pro", "Pro", 0, 4, False, 2),  # granted by staff (billing lives outside this service)
]


def create_plans(apps, schema_editor):
    Plan = apps.get_model("accounts", "Plan")
    for slug, name, daily, concurrent, selectable, order in PLANS:
        Plan.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "daily_message_limit": daily,
                "max_concurrent_generations": concurrent,
                "selectable_by_user": selectable,
                "order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
