from django.db import migrations, models


def unchosen_language(apps, schema_editor):
    # "en" was the default nobody chose (nothing read it): such users now follow their browser.
    apps.get_model("accounts", "UserSettings").objects.filter(language="en").update(language="")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_plan_storage_limit_bytes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="usersettings",
            name="language",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AddField(
            model_name="usersettings",
            name="time_zone",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="usersettings",
            name="custom_instructions",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(unchosen_language, migrations.RunPython.noop),
    ]
