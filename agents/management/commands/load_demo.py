"""``manage.py load_demo``: the demo agents and an admin account, for ``make run``.

Safe to run on every start: agents already loaded are reported unchanged, an agent someone has
edited in the portal is kept as it is, and an existing admin account is never touched.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

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
SERVER = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = (
        f"Load the demo agents from agents/demo/ and create a superuser '{ADMIN_USERNAME}' when "
        f"there is no superuser yet (password from ${PASSWORD_ENV}, otherwise a random one, "
        "printed once), plus an 'author' and a 'reviewer' with random passwords printed once. "
        "Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--update",
            action="store_true",
            help="Also overwrite demo agents that were changed in the portal.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        admin = self._ensure_admin()
        self._ensure_role_users()
        self._load_agents(owner=admin, update=options["update"])

    def _ensure_role_users(self) -> None:
        """An author and a reviewer, so the review workflow can be tried with two people."""
        User = get_user_model()
        for username, group in ROLE_USERS.items():
            if User.objects.filter(**{User.USERNAME_FIELD: username}).exists():
                self.stdout.write(f"user '{username}' exists; its password is unchanged")
                continue
            password = secrets.token_urlsafe(18)
            with transaction.atomic():
                user = User.objects.create_user(username, "", password, is_staff=True)
                user.groups.add(Group.objects.get(name=group))
            self.stdout.write(
                self.style.SUCCESS(
                    f"created user '{username}' ({group}) with password: {password} "
                    "(shown only now)"
                )
            )

    def _ensure_admin(self) -> AbstractBaseUser | None:
        User = get_user_model()
        login_url = f"{SERVER}{reverse('admin:index')}"
        existing = User.objects.filter(**{User.USERNAME_FIELD: ADMIN_USERNAME}).first()
        if existing is not None:
            self.stdout.write(
                f"user '{ADMIN_USERNAME}' exists; its password is unchanged. Log in at {login_url}"
            )
            return existing
        superuser = User.objects.filter(is_superuser=True).order_by("pk").first()
        if superuser is not None:
            self.stdout.write(
                f"superuser '{superuser.get_username()}' exists; no '{ADMIN_USERNAME}' account "
                f"created. Log in at {login_url}"
            )
            return superuser

        password = os.environ.get(PASSWORD_ENV, "")
        from_env = bool(password)
        if not from_env:
            password = secrets.token_urlsafe(18)
        with transaction.atomic():
            admin = User.objects.create_superuser(ADMIN_USERNAME, "", password)
        if from_env:
            self.stdout.write(
                self.style.SUCCESS(
                    f"created superuser '{ADMIN_USERNAME}' with the password from ${PASSWORD_ENV}"
                )
            )
        else:
            # Printed this once only: it is stored hashed and never shown again.
            self.stdout.write(
                self.style.SUCCESS(
                    f"created superuser '{ADMIN_USERNAME}' with password: {password}\n"
                    "  (shown only now; set a new one with: manage.py changepassword admin)"
                )
            )
        self.stdout.write(f"Log in at {login_url} as '{ADMIN_USERNAME}'")
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
