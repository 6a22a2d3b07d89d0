"""A reply's tool calls (``Message.tool_calls``), and the embedded model's row says what its server
honours: ``structured_output`` (llama-cpp-python makes a grammar of a JSON schema). Only a row whose
capabilities nobody has set is changed; backwards leaves the capabilities (they stay true)."""

from django.db import migrations, models


def forwards(apps, schema_editor):
    LLMModel = apps.get_model("conversations", "LLMModel")
    for row in LLMModel.objects.filter(provider="local"):
        if not row.capabilities:
            row.capabilities = ["structured_output"]
            row.save(update_fields=["capabilities"])


class Migration(migrations.Migration):
    dependencies = [("conversations", "0014_remove_message_superseded")]

    operations = [
        migrations.AddField(
            model_name="message",
            name="tool_calls",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
