from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("conversations", "0013_message_tree")]

    operations = [
        migrations.RemoveField(model_name="message", name="superseded"),
        migrations.AlterField(
            model_name="conversation",
            name="origin_kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "none"),
                    ("share", "Share"),
                    ("sample", "Sample"),
                    ("branch", "Branch"),
                    ("api", "OpenAI-compatible API"),
                ],
                default="",
                max_length=10,
            ),
        ),
    ]
