"""Seed the model catalog and a few suggested prompts.

The local SmolLM2 model is the enabled default, so a fresh checkout chats with no network and no
key. The OpenAI-compatible rows are disabled examples: an operator sets the env var the row names
(keys never live in the database) and enables the row in the admin.
"""

from django.db import migrations

MODELS = [
    {
        "slug": "smollm2-135m",
        "display_name": "SmolLM2 135M (local)",
        "description": "Small model running inside the service; no network or key needed.",
        "provider": "local",
        "upstream_model": "SmolLM2-135M-Instruct",
        "base_url": "",
        "api_key_env": "",
        "context_window": 2048,
        "max_output_tokens": 256,
        "enabled": True,
        "is_default": True,
        "order": 0,
    },
    {
        "slug": "gpt-4o-mini",
        "display_name": "GPT-4o mini (OpenAI)",
        "description": "OpenAI's hosted model. Needs OPENAI_API_KEY.",
        "provider": "openai",
        "upstream_model": "gpt-4o-mini",
        "base_url": "https://api.openai.com/v1",
        "api_key_env": "OPENAI_API_KEY",
        "context_window": 128000,
        "max_output_tokens": 4096,
        "enabled": False,
        "is_default": False,
        "order": 10,
    },
    {
        "slug": "ollama-llama3-2",
        "display_name": "Llama 3.2 (Ollama)",
        "description": "A model served by a local Ollama (ollama pull llama3.2).",
        "provider": "openai",
        "upstream_model": "llama3.2",
        "base_url": "http://127.0.0.1:11434/v1",
        "api_key_env": "",
        "context_window": 8192,
        "max_output_tokens": 1024,
        "enabled": False,
        "is_default": False,
        "order": 20,
    },
    {
        "slug": "vllm-qwen2-5-7b",
        "display_name": "Qwen2.5 7B Instruct (vLLM)",
        "description": "A model served by vLLM's OpenAI-compatible server.",
        "provider": "openai",
        "upstream_model": "Qwen/Qwen2.5-7B-Instruct",
        "base_url": "http://127.0.0.1:8000/v1",
        "api_key_env": "VLLM_API_KEY",
        "context_window": 32768,
        "max_output_tokens": 2048,
        "enabled": False,
        "is_default": False,
        "order": 30,
    },
    {
        "slug": "openrouter-llama-3-1-8b",
        "display_name": "Llama 3.1 8B Instruct (OpenRouter)",
        "description": "Through OpenRouter. Needs OPENROUTER_API_KEY.",
        "provider": "openai",
        "upstream_model": "meta-llama/llama-3.1-8b-instruct",
        "base_url": "https://openrouter.ai/api/v1",
        "api_key_env": "OPENROUTER_API_KEY",
        "context_window": 131072,
        "max_output_tokens": 2048,
        "enabled": False,
        "is_default": False,
        "order": 40,
    },
]

PROMPTS = [
    # category, title, text
    ("writing", "Improve my text", "Rewrite the following text so it is clear and concise, keeping its meaning:\n\n"),
    ("writing", "Write an email", "Write a short, friendly email that "),
    ("coding", "Explain this code", "Explain what the following code does, step by step:\n\n"),
    ("coding", "Find the bug", "This code does not work as expected. Find the bug and suggest a fix:\n\n"),
    ("learning", "Explain like I'm five", "Explain the following idea in simple words, with an example: "),
    ("learning", "Quiz me", "Ask me five questions, one at a time, to test my knowledge of "),
]


def seed(apps, schema_editor):
    LLMModel = apps.get_model("conversations", "LLMModel")
    Prompt = apps.get_model("conversations", "Prompt")
    has_default = LLMModel.objects.filter(is_default=True).exclude(slug="smollm2-135m").exists()
    for row in MODELS:
        defaults = {k: v for k, v in row.items() if k != "slug"}
        if has_default:  # an operator already chose a default; keep it (one default allowed)
            defaults["is_default"] = False
        LLMModel.objects.get_or_create(slug=row["slug"], defaults=defaults)
    for order, (category, title, text) in enumerate(PROMPTS):
        Prompt.objects.get_or_create(title=title, defaults={"category": category, "text": text, "order": order})


def unseed(apps, schema_editor):
    apps.get_model("conversations", "LLMModel").objects.filter(slug__in=[m["slug"] for m in MODELS]).delete()
    apps.get_model("conversations", "Prompt").objects.filter(title__in=[p[1] for p in PROMPTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("conversations", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
