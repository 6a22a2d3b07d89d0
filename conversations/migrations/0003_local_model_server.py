"""The seeded SmolLM2 row now names the embedded model's own server.

Provider ``local`` is spoken to as an OpenAI-compatible upstream at ``CHAT_LOCAL_MODEL_URL`` (the
row's base URL stays blank so the deployment decides the port); the model name is the alias the
server is started with (``conversations.llm.model_server``). Rows an operator changed are left alone.
"""

from django.db import migrations

SLUG = "smollm2-135m"
OLD_DESCRIPTION = "Small model running inside the service; no network or key needed."
NEW_DESCRIPTION = "Small model served on this machine by its own process; no network or key needed."


def forwards(apps, schema_editor):
    LLMModel = apps.get_model("conversations", "LLMModel")
    LLMModel.objects.filter(slug=SLUG, provider="local", base_url="").update(upstream_model="SmolLM2-135M-Instruct")
    LLMModel.objects.filter(slug=SLUG, description=OLD_DESCRIPTION).update(description=NEW_DESCRIPTION)


def backwards(apps, schema_editor):
    apps.get_model("conversations", "LLMModel").objects.filter(slug=SLUG, description=NEW_DESCRIPTION).update(
        description=OLD_DESCRIPTION
    )


class Migration(migrations.Migration):
    dependencies = [("conversations", "0002_seed_catalog")]

    operations = [migrations.RunPython(forwards, backwards)]
