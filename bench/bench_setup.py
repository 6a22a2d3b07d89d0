"""Setup step of the capacity bench, run as a subprocess inside the server under test's code.

    cd <server root> && DATABASE_URL=... python <this file> < job.json > result.json

Job: ``{"users": N, "prefix": "cap", "base_url": "http://127.0.0.1:<port>/v1",
"models": {"<slug>": "<upstream model string>", ...}}``.
Creates (or updates) a ``bench`` plan with no daily limit and a high concurrent-generations limit,
one LLM model row per slug (provider ``openai`` on the fake upstream), ``N`` users on that plan
(unusable passwords: no password hashing) and one device session each; prints
``{"tokens": [...]}``, the access tokens in user order. This is the only part of the bench that
imports the project's code, and it imports it from the server root (the working directory).
"""

import json
import os
import sys

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

from accounts import services as account_services  # noqa: E402
from accounts.models import Plan, User, UserSettings  # noqa: E402
from conversations.models import LLMModel  # noqa: E402


def main() -> None:
    job = json.load(sys.stdin)
    plan, _ = Plan.objects.update_or_create(
        slug="bench",
        defaults={
            "name": "Bench",
            "daily_message_limit": 0,  # unlimited
            "max_concurrent_generations": 10000,
            "selectable_by_user": False,
            "order": 999,
        },
    )
    for slug, upstream_model in job["models"].items():
        LLMModel.objects.update_or_create(
            slug=slug,
            defaults={
                "display_name": slug,
                "provider": "openai",
                "upstream_model": upstream_model,
                "base_url": job["base_url"],
                "api_key_env": "",
                "context_window": 65536,
                "max_output_tokens": 8000,
                "request_timeout_seconds": 120.0,
                "enabled": True,
                "is_default": False,
            },
        )
    tokens = []
    for i in range(job["users"]):
        email = f"{job['prefix']}{i}@bench.example.com"
        with transaction.atomic():
            user = User.objects.filter(email=email).first()
            if user is None:
                user = account_services.user_create(email=email, password=None)
            UserSettings.objects.filter(user=user).update(plan=plan)
            session = account_services.session_start(user=user, login_type="local", device_id="bench")
        tokens.append(session.tokens.access)
    json.dump({"tokens": tokens}, sys.stdout)


if __name__ == "__main__":
    main()
