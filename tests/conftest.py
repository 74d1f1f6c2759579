from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
EXAMPLE = SHARED / "examples" / "python-backend-expert.md"
CORPUS = SHARED / "corpus" / "agents"


POSTGRESQL_ONLY = "postgresql_only"


def pytest_collection_modifyitems(config, items) -> None:
    """Skip the tests marked ``postgresql_only`` unless the database is PostgreSQL.

    They run threads on their own connections that wait for each other's row locks; SQLite's
    in-memory test database shares one cache between connections, where a second writer fails
    at once ("database table is locked") instead of waiting.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: run with DATABASE_URL=postgres://... to include it"
    )
    for item in items:
        if item.get_closest_marker(POSTGRESQL_ONLY):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if POSTGRESQL_ONLY in getattr(report, "keywords", {})
    ]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} PostgreSQL-only tests skipped: run with "
            "DATABASE_URL=postgres://... to include them.",
            yellow=True,
            bold=True,
        )


def shared_file(path: Path) -> Path:
    """A file from ../shared/, or a skip that says why the test cannot run without it (a
    failure when AGENTPORTAL_REQUIRE_SHARED is set, as CI sets it: CI must not pass by
    skipping the corpus)."""
    if not path.exists():
        reason = f"{path} is absent: the shared test data lives beside the project in ../shared/"
        if os.environ.get("AGENTPORTAL_REQUIRE_SHARED"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture
def example_bytes() -> bytes:
    return shared_file(EXAMPLE).read_bytes()


def member_of(user, *groups: str):
    from django.contrib.auth.models import Group

    user.groups.add(*Group.objects.filter(name__in=groups))
    return user


def staff_member(django_user_model, username: str, group: str):
    """A staff user in one role group, with the password ``pw-<username>``."""
    user = django_user_model.objects.create_user(
        username, f"{username}@example.com", f"pw-{username}", is_staff=True
    )
    return member_of(user, group)


@pytest.fixture
def author(django_user_model):
    """An author (staff, in the Authors group) who owns nothing yet."""
    return staff_member(django_user_model, "author", "Authors")


@pytest.fixture
def other_author(django_user_model):
    return staff_member(django_user_model, "other", "Authors")


@pytest.fixture
def reviewer(django_user_model):
    return staff_member(django_user_model, "reviewer", "Reviewers")


@pytest.fixture
def other_reviewer(django_user_model):
    return staff_member(django_user_model, "reviewer2", "Reviewers")


@pytest.fixture
def reader(django_user_model):
    """A signed-in user with no role: may download published agents, nothing more."""
    return django_user_model.objects.create_user("reader", "reader@example.com", "pw-reader-1")


@pytest.fixture(autouse=True)
def static_urls_without_a_manifest(settings):
    # With DEBUG off the manifest storage needs collectstatic; pages under test only need URLs.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def migrated_data(db):
    """The rows data migrations create (tool registry, role groups), back again.

    A transactional test ends by emptying every table; tests that run after one and need those
    rows ask for this fixture.
    """
    from importlib import import_module

    from django.apps import apps

    import_module("agents.migrations.0002_builtin_tools").add_tools(apps, None)
    import_module("agents.migrations.0004_roles").assign_roles(apps)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The cast of users is created in nearly every test; real hashing would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def page(live_server):
    """A Chromium page signed in as nobody, on the live test server (tests/browser.py)."""
    from .browser import browser_page

    yield from browser_page(live_server)
