"""Idempotent seed for a fresh install: the catalog comes from migrations; this adds accounts.

`make run` calls it. With DJANGO_SUPERUSER_EMAIL and DJANGO_SUPERUSER_PASSWORD set it creates (or
keeps) that admin; with DEMO_USER_EMAIL and DEMO_USER_PASSWORD a regular demo user. Nothing is
created with a built-in password.
"""

import os

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services as account_services
from accounts.models import Plan, User
from conversations.models import LLMModel, Prompt


class Command(BaseCommand):
    help = "Create optional admin/demo accounts from the environment and report the seed data."

    @transaction.atomic
    def handle(self, *args, **options):
        for email_var, password_var, staff in (
            ("DJANGO_SUPERUSER_EMAIL", "DJANGO_SUPERUSER_PASSWORD", True),
            ("DEMO_USER_EMAIL", "DEMO_USER_PASSWORD", False),
        ):
            email, password = os.environ.get(email_var), os.environ.get(password_var)
            if not (email and password):
                continue
            if User.objects.filter(email__iexact=email).exists():
                self.stdout.write(f"user {email} exists")
                continue
            account_services.user_create(email=email, password=password, is_staff=staff, is_superuser=staff)
            self.stdout.write(self.style.SUCCESS(f"created {'admin' if staff else 'demo user'} {email}"))

        default = LLMModel.objects.filter(is_default=True, enabled=True).first()
        self.stdout.write(
            f"plans: {', '.join(Plan.objects.values_list('slug', flat=True))}; "
            f"enabled models: {LLMModel.objects.filter(enabled=True).count()} "
            f"(default: {default.slug if default else 'none'}); "
            f"prompts: {Prompt.objects.filter(enabled=True).count()}"
        )
