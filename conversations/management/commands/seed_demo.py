"""Idempotent seed for a fresh install: the catalog comes from migrations; this adds accounts.

`make run` calls it. With DJANGO_SUPERUSER_EMAIL and DJANGO_SUPERUSER_PASSWORD set it creates (or
keeps) that admin; with DEMO_USER_EMAIL and DEMO_USER_PASSWORD a regular demo user. Nothing is
created with a built-in password.

A password the password rules refuse (AUTH_PASSWORD_VALIDATORS: at least 8 characters, a digit
and an upper-case letter, not a common password, not all digits, not like the email) stops the
command with one line naming the variable and each rule it breaks, before anything is created, so
`make run` stops there instead of serving without the admin that was asked for.
"""

import os
from dataclasses import dataclass

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from accounts import services as account_services
from accounts.models import Plan, User
from conversations.models import LLMModel, Prompt

ACCOUNTS = (
    ("DJANGO_SUPERUSER_EMAIL", "DJANGO_SUPERUSER_PASSWORD", True),
    ("DEMO_USER_EMAIL", "DEMO_USER_PASSWORD", False),
)


@dataclass(frozen=True)
class Wanted:
    email: str
    password: str
    staff: bool

    @property
    def role(self) -> str:
        return "admin" if self.staff else "demo user"


class Command(BaseCommand):
    help = "Create optional admin/demo accounts from the environment and report the seed data."

    def handle(self, *args, **options):
        wanted, refused = [], []
        for email_var, password_var, staff in ACCOUNTS:
            email = User.objects.normalize_email(os.environ.get(email_var, ""))
            password = os.environ.get(password_var, "")
            if not email and not password:
                continue
            if not (email and password):
                missing = password_var if email else email_var
                self.stderr.write(f"{missing} is not set: no {'admin' if staff else 'demo user'} created.")
                continue
            if User.objects.filter(email__iexact=email).exists():
                self.stdout.write(f"user {email} exists")
                continue
            try:
                validate_email(email)
            except ValidationError:
                refused.append(f"{email_var} is not an email address.")
                continue
            try:
                password_validation.validate_password(password, User(email=email))
            except ValidationError as exc:
                refused.append(f"{password_var} is refused: {' '.join(exc.messages)}")
                continue
            wanted.append(Wanted(email, password, staff))
        if refused:
            raise CommandError(
                " ".join(refused) + " Nothing was created (the password rules are in README.md, Configuration)."
            )

        with transaction.atomic():
            for account in wanted:
                account_services.user_create(
                    email=account.email, password=account.password, is_staff=account.staff, is_superuser=account.staff
                )
                self.stdout.write(self.style.SUCCESS(f"created {account.role} {account.email}"))

        default = LLMModel.objects.filter(is_default=True, enabled=True).first()
        self.stdout.write(
            f"plans: {', '.join(Plan.objects.values_list('slug', flat=True))}; "
            f"enabled models: {LLMModel.objects.filter(enabled=True).count()} "
            f"(default: {default.slug if default else 'none'}); "
            f"prompts: {Prompt.objects.filter(enabled=True).count()}"
        )
