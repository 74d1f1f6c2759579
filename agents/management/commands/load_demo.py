"""``manage.py load_demo``: the demo agents and the demo accounts, for ``make run``.

Safe to run on every start: agents already loaded are reported unchanged, an agent someone has
edited in the portal is kept as it is, and an existing account is never touched. It ends with a
framed block saying where to sign in, with the passwords of the accounts it just created (shown
this once: they are stored hashed). The addresses printed start with ``PORTAL_BASE_URL``, which
``make run PORT=...`` sets.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse

from agents import permissions
from agents.importing import Outcome, import_file
from agents.models import Tool

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
ADMIN_USERNAME = "admin"
ROLE_USERS = {"author": permissions.AUTHORS, "reviewer": permissions.REVIEWERS}
PASSWORD_ENV = "DJANGO_SUPERUSER_PASSWORD"  # noqa: S105 (the name of a variable, not a password)
# Demo accounts get addresses, so the console mail backend of development shows their mail.
EMAIL_DOMAIN = "example.com"


class Command(BaseCommand):
    help = (
        f"Load the demo agents from agents/demo/ and create a superuser '{ADMIN_USERNAME}' when "
        f"there is no superuser yet (password from ${PASSWORD_ENV}, otherwise a random one, "
        "printed once), plus an 'author' and a 'reviewer' with random passwords printed once, "
        f"all with addresses at {EMAIL_DOMAIN}. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--update",
            action="store_true",
            help="Also overwrite demo agents that were changed in the portal.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.created: list[str] = []  # one line per account created now, with its password
        admin = self._ensure_admin()
        self._ensure_role_users()
        self._load_agents(owner=admin, update=options["update"])
        self._sign_in_block()

    def _sign_in_block(self) -> None:
        """Where to sign in, and the passwords of the accounts created now: framed, and printed
        last, so that they stand out from the install and migrate output before them."""
        server = settings.PORTAL_BASE_URL
        lines = [f"Agent Portal: {server}{reverse('home')}", ""]
        if self.created:
            lines += [f"Sign in at {server}{reverse('login')} with:", *self.created, ""]
            lines += [
                "Passwords are shown only now (they are stored hashed). Change one with:",
                "  .venv/bin/python manage.py changepassword <username>",
            ]
        else:
            lines += [
                f"Sign in at {server}{reverse('login')}: the accounts exist already, and their",
                "passwords were shown when they were created. Forgot one? Set another with:",
                "  .venv/bin/python manage.py changepassword <username>",
            ]
        lines.append(f"The admin, for admins: {server}{reverse('admin:index')}")
        width = max(len(line) for line in lines)
        rule = "+" + "-" * (width + 4) + "+"
        framed = [rule, *(f"|  {line.ljust(width)}  |" for line in lines), rule]
        self.stdout.write("\n" + "\n".join(framed), self.style.SUCCESS)

    def _ensure_role_users(self) -> None:
        """An author and a reviewer, so the review workflow can be tried with two people."""
        User = get_user_model()
        for username, group in ROLE_USERS.items():
            if User.objects.filter(**{User.USERNAME_FIELD: username}).exists():
                self.stdout.write(f"user '{username}' exists; its password is unchanged")
                continue
            password = secrets.token_urlsafe(18)
            with transaction.atomic():
                user = User.objects.create_user(
                    username, f"{username}@{EMAIL_DOMAIN}", password, is_staff=True
                )
                user.groups.add(Group.objects.get(name=group))
            self.stdout.write(f"created user '{username}' ({group}); its password is below")
            self.created.append(f"  created user '{username}' ({group}) with password: {password}")

    def _ensure_admin(self) -> AbstractBaseUser | None:
        User = get_user_model()
        existing = User.objects.filter(**{User.USERNAME_FIELD: ADMIN_USERNAME}).first()
        if existing is not None:
            self.stdout.write(f"user '{ADMIN_USERNAME}' exists; its password is unchanged")
            return existing
        superuser = User.objects.filter(is_superuser=True).order_by("pk").first()
        if superuser is not None:
            self.stdout.write(
                f"superuser '{superuser.get_username()}' exists; no '{ADMIN_USERNAME}' account "
                "created"
            )
            return superuser

        password = os.environ.get(PASSWORD_ENV, "")
        from_env = bool(password)
        if not from_env:
            password = secrets.token_urlsafe(18)
        with transaction.atomic():
            admin = User.objects.create_superuser(
                ADMIN_USERNAME, f"{ADMIN_USERNAME}@{EMAIL_DOMAIN}", password
            )
        if from_env:
            self.stdout.write(f"created superuser '{ADMIN_USERNAME}'")
            self.created.append(
                f"  created superuser '{ADMIN_USERNAME}' with the password from ${PASSWORD_ENV}"
            )
        else:
            self.stdout.write(f"created superuser '{ADMIN_USERNAME}'; its password is below")
            # Printed this once only: it is stored hashed and never shown again.
            self.created.append(f"  created superuser '{ADMIN_USERNAME}' with password: {password}")
        return admin

    def _load_agents(self, owner: AbstractBaseUser | None, update: bool) -> None:
        registry = Tool.registry()
        paths = sorted(DEMO_DIR.glob("*.md"))
        failed = 0
        for path in paths:
            result = import_file(
                f"demo/{path.name}",
                path.read_bytes(),
                update=update,
                owner=owner,
                publish=True,  # the demo shows approved agents everyone can download
                registry=registry,
            )
            if result.outcome == Outcome.CONFLICT:
                self.stdout.write(
                    f"kept: {result.source} ({result.name}) differs in the portal; "
                    "not overwritten (load_demo --update replaces it)"
                )
            elif result.failed:
                self.stderr.write(self.style.ERROR(result.line()))
                failed += 1
            else:
                self.stdout.write(result.line())
        if failed:
            raise CommandError(f"{failed} of {len(paths)} demo files could not be loaded")
        self.stdout.write(f"{len(paths)} demo agents loaded from {DEMO_DIR}")
